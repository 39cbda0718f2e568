"""The nightly steps as plain functions (intake, validation, dbt, publishing) that the Airflow DAG wires."""
