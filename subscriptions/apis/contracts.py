"""HTTP for `contracts` (staff; tenant tokens get 403)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from billing_project.shared.api.permissions import IsStaff, principal_of
from billing_project.shared.api.views import BillingGenericAPIView, parse_uuid
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import NotFound
from subscriptions import selectors
from subscriptions.models import Contract
from subscriptions.serializers.contracts import (
    ContractCreateRequest,
    ContractCreateSerializer,
    ContractSerializer,
    ContractUpdateRequest,
    ContractUpdateSerializer,
)
from subscriptions.services import contracts


def _out(contract, now, status_code=status.HTTP_200_OK) -> Response:
    contract = selectors.contract_get(contract_id=contract.pk)
    return Response(ContractSerializer(contract, context={"now": now}).data, status=status_code)


class ContractListCreateApi(BillingGenericAPIView):
    permission_classes = [IsStaff]
    serializer_class = ContractSerializer
    queryset = Contract.objects.none()
    request_body_required = ("post",)

    @extend_schema(
        operation_id="contracts_list",
        responses=ContractSerializer(many=True),
        parameters=[OpenApiParameter("tenant_id", OpenApiTypes.UUID, required=False)],
    )
    def get(self, request):
        tenant_id = request.query_params.get("tenant_id")
        tenant_id = parse_uuid(tenant_id, field="tenant_id") if tenant_id else None
        page = self.paginate_queryset(selectors.contract_list(tenant_id=tenant_id))
        data = ContractSerializer(page, many=True, context={"now": utcnow()}).data
        return self.get_paginated_response(data)

    @extend_schema(
        request=ContractCreateRequest,
        responses={201: ContractSerializer},
        description=(
            "Staff. The guide's body; amounts in cents, overage rates may be fractional. "
            "Without dates the contract is in force from now for a year: it prices the current "
            "period's arrears and the fees from the next period on. 409 `contract_overlap` when "
            "the tenant has another contract in force then (a renewing one reaches on)."
        ),
    )
    def post(self, request):
        serializer = ContractCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        tenant = selectors.tenant_list(tenant_id=data["tenant_id"]).first()
        if tenant is None:
            raise NotFound("Tenant not found.")
        now = utcnow()
        contract = contracts.contract_create(
            tenant=tenant,
            contract_terms=data["contract_terms"],
            start_date=data.get("start_date"),
            end_date=data.get("end_date"),
            now=now,
            actor=principal_of(request).actor,
        )
        return _out(contract, now, status.HTTP_201_CREATED)


class ContractDetailApi(BillingGenericAPIView):
    permission_classes = [IsStaff]
    serializer_class = ContractSerializer
    queryset = Contract.objects.none()

    def _contract(self, contract_id) -> Contract:
        contract = selectors.contract_get(contract_id=parse_uuid(contract_id, not_found=True))
        if contract is None:
            raise NotFound("Contract not found.")
        return contract

    @extend_schema(responses=ContractSerializer)
    def get(self, request, contract_id):
        return _out(self._contract(contract_id), utcnow())

    @extend_schema(
        request=ContractUpdateRequest,
        responses=ContractSerializer,
        description=(
            "Staff. A new version: the `contract_terms` fields given replace the current ones "
            "(one level into `custom_pricing`); `end_date` moves the end of the term. Invoices "
            "already issued keep the version they used."
        ),
    )
    def patch(self, request, contract_id):
        contract = self._contract(contract_id)
        serializer = ContractUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        now = utcnow()
        contract = contracts.contract_update(
            contract=contract,
            contract_terms=data.get("contract_terms"),
            end_date=data.get("end_date"),
            note=data.get("note", ""),
            now=now,
            actor=principal_of(request).actor,
        )
        return _out(contract, now)
