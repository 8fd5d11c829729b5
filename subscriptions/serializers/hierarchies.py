"""Bodies of `POST hierarchies` (the guide's) and the tree `GET tenants/{id}/hierarchy` answers."""

from rest_framework import serializers


class ParentEntitySerializer(serializers.Serializer):
    tenant_id = serializers.UUIDField()
    billing_consolidation = serializers.BooleanField(default=False)
    payment_responsibility = serializers.BooleanField(default=False)


class ChildEntitySerializer(serializers.Serializer):
    tenant_id = serializers.UUIDField()
    cost_allocation = serializers.DecimalField(max_digits=5, decimal_places=2)


class HierarchyCreateSerializer(serializers.Serializer):
    parent_entity = ParentEntitySerializer()
    child_entities = ChildEntitySerializer(many=True, allow_empty=False)


class HierarchyNodeSerializer(serializers.Serializer):
    tenant_id = serializers.UUIDField()
    name = serializers.CharField()
    cost_allocation = serializers.DecimalField(
        max_digits=5, decimal_places=2, allow_null=True, coerce_to_string=False
    )
    billing_consolidation = serializers.BooleanField()
    payment_responsibility = serializers.BooleanField()
    children = serializers.ListField(child=serializers.DictField())

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["children"] = [HierarchyNodeSerializer(c).data for c in instance["children"]]
        return data


class HierarchySerializer(serializers.Serializer):
    parent_id = serializers.UUIDField(allow_null=True)
    ancestor_ids = serializers.ListField(child=serializers.UUIDField())
    root = HierarchyNodeSerializer()
