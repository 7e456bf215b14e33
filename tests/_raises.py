"""The check every table of bad-input cases shares: the call raises the expected error with the expected
words (numpy's RuntimeWarnings from the bad values silenced, so only the error is judged)."""
import warnings

import pytest


def assert_raises_case(case):
    """``case`` is (call, exception class, regex the message must match)."""
    fn, exc, match = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(exc, match=match):
            fn()
