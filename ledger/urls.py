from django.urls import path

from ledger import apis

urlpatterns = [
    path("ledger/trial-balance", apis.TrialBalanceApi.as_view(), name="ledger-trial-balance"),
    path("ledger/entries", apis.EntriesApi.as_view(), name="ledger-entries"),
]
