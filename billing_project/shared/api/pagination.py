from rest_framework.pagination import PageNumberPagination


class BillingPagination(PageNumberPagination):
    """`{count, next, previous, results}` with absolute next/previous URLs."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
