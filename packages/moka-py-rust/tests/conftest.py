import moka_py_rust
import pytest


@pytest.fixture
def Moka():
    return moka_py_rust.Moka
