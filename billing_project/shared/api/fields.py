"""Request fields that take JSON strings only: DRF's CharField turns 123 into "123"."""

from rest_framework import serializers


class _StringOnly:
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(_StringOnly, serializers.CharField):
    pass


class StrictEmailField(_StringOnly, serializers.EmailField):
    pass


class StrictSlugField(_StringOnly, serializers.SlugField):
    pass
