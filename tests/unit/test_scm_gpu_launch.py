import pytest

from resources.deployment import gpu_resource
from resources.gpu import GPUResource
from resources.settings import ConfigError


def test_launch_mode_comes_from_the_environment():
    assert gpu_resource({}).launch == "in_process"
    gpu = gpu_resource({"MMFOUNDRY_GPU_LAUNCH": "pipes", "MMFOUNDRY_TORCH_THREADS": "1",
                        "MMFOUNDRY_GPU_DEVICE": "cpu"})
    assert (gpu.launch, gpu.threads, gpu.device) == ("pipes", 1, "cpu")
    # what a Pipes process receives rebuilds the same resource, minus the launch mode
    assert GPUResource(**gpu.settings()).settings() == gpu.settings()


def test_bad_launch_mode_is_one_clear_error():
    with pytest.raises(ConfigError, match=r"^MMFOUNDRY_GPU_LAUNCH must be one of in_process, pipes; got 'k8s'$"):
        gpu_resource({"MMFOUNDRY_GPU_LAUNCH": "k8s"})
