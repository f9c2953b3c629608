"""Great Expectations suites as asset checks: one multi-asset check per asset, one check per expectation.

The suites are data (quality/expectations.yaml + what quality/suites.py derives from schemas/); see docs/quality.md.
"""

from quality.checks import suite_checks
from quality.suites import suites

quality_checks = [suite_checks(s) for s in suites().values()]
