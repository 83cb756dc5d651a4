import pytest

import moka_py_rust


@pytest.fixture
def Moka():
    return moka_py_rust.Moka
