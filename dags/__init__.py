"""Airflow DAGs of billing-sync (a package only so that mypy checks them)."""
