import subprocess
import sys


def test_loading_the_code_location_imports_no_torch_or_sklearn():
    code = "import sys, definitions; print(sorted(m for m in ('torch', 'sklearn', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_loading_the_training_group_imports_no_torch_or_sklearn():
    code = ("import sys, assets.training.definitions; "
            "print(sorted(m for m in ('torch', 'sklearn', 'matplotlib', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
