from django.core.paginator import InvalidPage
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination

MAX_OFFSET = 2**62


class BillingPagination(PageNumberPagination):
    """`{count, next, previous, results}` with absolute next/previous URLs."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class _FetchedPage:
    """An object list whose size is known and whose requested page is already fetched."""

    def __init__(self, count: int, page):
        self._count, self._page = count, page

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, key):
        return self._page


class FetchPagination(BillingPagination):
    """The same page-number pagination (parameters, errors, links) over a fetch function
    `fetch(offset, limit) -> (count, page)` that gets the count and the page in one query.
    `page=last` costs a second fetch."""

    def paginate_fetch(self, request, fetch):
        self.request = request
        page_size = self.get_page_size(request)
        number = request.query_params.get(self.page_query_param) or 1
        try:
            offset = max(0, (int(number) - 1) * page_size)
        except (TypeError, ValueError):
            offset = 0  # not a number (or "last"): the count decides
        if offset > MAX_OFFSET:  # beyond any real list, and beyond SQL's bigint OFFSET
            raise NotFound(self.invalid_page_message.format(page_number=number, message=""))
        count, page = fetch(offset, page_size)
        paginator = self.django_paginator_class(_FetchedPage(count, page), page_size)
        if number in self.last_page_strings:
            number = paginator.num_pages
            count, page = fetch((number - 1) * page_size, page_size)
            paginator = self.django_paginator_class(_FetchedPage(count, page), page_size)
        try:
            self.page = paginator.page(number)
        except InvalidPage as exc:
            raise NotFound(
                self.invalid_page_message.format(page_number=number, message=str(exc))
            ) from None
        return self.page.object_list
