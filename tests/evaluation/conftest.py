from tests.evaluation.world import clock, eval_world  # noqa: F401  (fixtures)
from tests.tendering.conftest import _fast_and_isolated  # noqa: F401  (autouse fixture)
