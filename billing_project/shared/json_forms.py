"""Form fields for JSON columns staff edit, so nobody types JSON where the shape is known: a list
of strings (one input per item, unfold's ArrayWidget with "Add new item"), a list of
`{name, value}` pairs (one `Name: value` per item), and for JSON of no fixed shape a pretty-
printed editor whose error says what is wrong and where."""

import json

from django import forms
from unfold.contrib.forms.widgets import ArrayWidget
from unfold.widgets import UnfoldAdminTextareaWidget


class StringListField(forms.Field):
    """A JSON list of non-empty strings; blank items are dropped."""

    widget = ArrayWidget

    def __init__(self, *, max_items: int = 20, max_length: int = 200, **kwargs):
        self.max_items, self.max_length = max_items, max_length
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in (None, ""):
            return []
        if isinstance(value, str):
            value = [value]
        return [str(item).strip() for item in value if str(item).strip()]

    def validate(self, value):
        super().validate(value)
        if len(value) > self.max_items:
            raise forms.ValidationError(f"At most {self.max_items} items.")
        for number, item in enumerate(value, 1):
            if len(item) > self.max_length:
                raise forms.ValidationError(
                    f"Item {number} is longer than {self.max_length} characters."
                )

    def has_changed(self, initial, data):
        return self.to_python(initial) != self.to_python(data)


class NameValueListField(StringListField):
    """A JSON list of `{"name": ..., "value": ...}`, typed as one `Name: value` per item."""

    def prepare_value(self, value):
        return [self._text(item) for item in (value or [])] if isinstance(value, list) else value

    @staticmethod
    def _text(item) -> str:
        if isinstance(item, dict):
            return f"{item.get('name', '')}: {item.get('value', '')}"
        return str(item)

    def to_python(self, value):
        if isinstance(value, list):
            value = [self._text(item) for item in value]
        return super().to_python(value)

    def clean(self, value):
        lines = super().clean(value)
        pairs = []
        for number, line in enumerate(lines, 1):
            name, colon, text = line.partition(":")
            if not colon or not name.strip() or not text.strip():
                raise forms.ValidationError(
                    f'Item {number} ("{line[:40]}"): write it as "Name: value", '
                    'e.g. "Support: help@example.com".'
                )
            pairs.append({"name": name.strip(), "value": text.strip()})
        return pairs


class PrettyJSONField(forms.JSONField):
    """Any JSON, shown indented; invalid input is refused with the parser's message and place."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", UnfoldAdminTextareaWidget(attrs={"rows": 8}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)

    def to_python(self, value):
        if self.disabled or value in self.empty_values:
            return super().to_python(value)
        try:
            json.loads(value, cls=self.decoder)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"Not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
                code="invalid",
            ) from None
        return super().to_python(value)
