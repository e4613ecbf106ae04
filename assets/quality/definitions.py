"""The quality group's definitions, listed explicitly.

`provenance_index` is not here: it covers every other group's assets, so the root definitions
build it from them with `build_provenance_index(covered_assets)`.
"""

from assets.quality.audit_job import audit_job
from assets.quality.balance_assets import BALANCE_ASSETS
from assets.quality.sql_models import data_checks, sql_model_assets

ASSETS = [*sql_model_assets, *BALANCE_ASSETS]
CHECKS = [*data_checks]
JOBS = [audit_job]
