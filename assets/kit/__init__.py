"""What every group shares: the asset kit, record identity, the provenance contract, screens, checks,
UI metadata and partitions."""
