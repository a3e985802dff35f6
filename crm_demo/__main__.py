"""``python -m crm_demo``: the demo (see README). Starts local AWS (moto server), migrates, seeds, plays scenes."""

from __future__ import annotations

import os
import sys

# Quiet, human-readable output: warnings only, no EMF metric lines.
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("AWS_LAMBDA_FUNCTION_NAME", "crm-demo")

from crm_demo.run import main

raise SystemExit(main(sys.argv[1:]))
