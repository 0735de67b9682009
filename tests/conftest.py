import os
import sys

# helpers shared by the test files (importlib import mode does not put tests/ on sys.path)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True)
settings.load_profile("ci")


# The tests that take a second or more each (pytest --durations on 2 cores), skipped by the quick subset
# pytest -m "not slow" (under a minute there; the whole suite takes about four).
_SLOW_DIRS = ("tests/distributed/", "tests/course/")
_SLOW = {"test_workspace_caches_stay_bounded_over_many_batch_sizes",
         "test_estimator_protocol_pipeline_clone_pickle_partial_fit", "test_compressed_bomb_is_refused_unread",
         "test_course_scenario_digits_0_to_4_reused_for_5_to_9", "test_experiment_runs_quick_and_records_its_evidence",
         "test_mnist_download_from_a_mirror", "test_a_model_saved_in_eval_mode_loads_in_eval_mode",
         "test_zoo_command_line", "test_command_line", "test_grid_search_and_cross_validation_in_worker_processes",
         "test_conv_memory_is_bounded", "test_small_cnn_beats_the_demo_mlp",
         "test_narrower_instruction_sets_compute_the_same_products", "test_loaded_graph_needs_no_class",
         "test_tied_weights_and_residual_gradcheck_and_torch_parity",
         "test_dropped_models_are_freed_without_the_cyclic_collector",
         "test_a_busy_machine_shrinks_the_team_and_reports_why",
         "test_training_is_bitwise_the_same_with_more_threads_than_cores"}


def pytest_collection_modifyitems(items):
    for item in items:
        if item.nodeid.startswith(_SLOW_DIRS) or getattr(item, "originalname", item.name) in _SLOW:
            item.add_marker(pytest.mark.slow)
