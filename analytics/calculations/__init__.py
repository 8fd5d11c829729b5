"""Pure analytics calculations (no Django): MRR, movements, churn, cohorts, forecasts, health."""
