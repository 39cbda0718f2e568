"""The submission contract: what a report holds, the single source of truth (contract.yaml)."""
