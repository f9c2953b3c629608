"""Great Expectations suites as asset checks: one multi-asset check per asset, one check per expectation.

The suites are data (quality/expectations.yaml + what quality/suites.py derives from schemas/); see docs/quality.md.
"""

from quality.checks import all_asset_checks

quality_checks = all_asset_checks()
