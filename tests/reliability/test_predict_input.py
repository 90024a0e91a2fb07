"""Issue 14, case 5: text that is not a string is refused with the row and its type, from
Python and over REST, never given a confident prediction (null used to be scored as "None",
bytes as one prediction per byte)."""

import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from stance.errors import BadInputError
from stance.predict import Predictor
from stance.registry import StancePyfunc

GOOD = "“There is no threat to the city,” the mayor said."


@pytest.mark.parametrize("bad, named", [(None, "null"), (3, "int"), (2.5, "float"), (True, "bool"),
                                         ({"text": GOOD}, "dict"), (["a list"], "list")])
def test_python_refuses_a_row_that_is_not_text(tfidf_model, bad, named):
    predictor = Predictor(tfidf_model)
    for call in (predictor.predict, predictor.predict_frame, predictor):
        with pytest.raises(BadInputError) as err:
            call([GOOD, bad])
        message = str(err.value)
        assert message.startswith("row 1: text is ") and named in message and "\n" not in message


@pytest.mark.parametrize("bad, named", [(None, "null"), (7, "int"), (b"\xe2\x80\x9cbytes", "bytes"),
                                         ({"text": GOOD}, "dict"), (False, "bool")])
def test_python_refuses_input_that_is_not_text_or_a_list(tfidf_model, bad, named):
    with pytest.raises(BadInputError, match=f"expected a str or a list of str, got {named}"):
        Predictor(tfidf_model).predict(bad)


def test_one_string_is_one_sentence_and_the_predictor_is_callable(tfidf_model):
    predictor = Predictor(tfidf_model)
    assert len(predictor(GOOD)) == 1
    assert predictor([GOOD, "Talks resumed."]) == predictor.predict([GOOD, "Talks resumed."])


def test_pyfunc_turns_bad_rows_into_an_invalid_parameter_error(tfidf_model):
    pyfunc = StancePyfunc()
    pyfunc.predictor = Predictor(tfidf_model)
    with pytest.raises(MlflowException) as err:
        pyfunc.predict(None, pd.DataFrame({"text": [GOOD, None]}))
    assert err.value.error_code == "INVALID_PARAMETER_VALUE" and "row 1: text is null" in err.value.message
    assert len(pyfunc.predict(None, pd.DataFrame({"text": [GOOD]}))) == 1


@pytest.mark.slow
def test_rest_answers_400_naming_the_row_and_type(server, post):
    _, port = server
    for bad, named in ((None, "null"), (3, "int"), (True, "bool"), ({"a": 1}, "dict")):
        status, body = post(port, [GOOD, bad])
        assert status == 400, body
        assert f"row 1: text is {named}" in body["message"]
    status, body = post(port, [GOOD])
    assert status == 200 and len(body["predictions"]) == 1
