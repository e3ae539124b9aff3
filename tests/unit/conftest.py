import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# Import plugins the way Ansible does: through the collection's FQCN path.
sys.path.insert(0, os.path.join(ROOT, "collections"))
# The drill workloads are a test-side package (tests/drills/cloudphone_drill), not part of the collection.
sys.path.insert(0, os.path.join(ROOT, "tests", "drills"))
