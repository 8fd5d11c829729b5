from django.urls import path

from ledger import apis, export_apis

urlpatterns = [
    path("ledger/trial-balance", apis.TrialBalanceApi.as_view(), name="ledger-trial-balance"),
    path("ledger/entries.csv", export_apis.JournalCsvApi.as_view(), name="ledger-entries-csv"),
    path("ledger/entries", apis.EntriesApi.as_view(), name="ledger-entries"),
]
