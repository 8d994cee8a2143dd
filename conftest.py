"""Test-suite wide settings.

Notebooks run inside the suite (nbmake) at CI scale: small volumes, two replications. A
planner running a notebook by hand gets the full scale (the variable is unset there).
"""

import os

os.environ.setdefault("CSSIM_NOTEBOOK_SCALE", "ci")
os.environ.setdefault("MPLBACKEND", "Agg")
