"""Error classes the command line catches, importable without pandas, mlflow or torch.

Each message is one line naming the file, URI, row or value at fault; `stance.cli.main`
prints it as ``error: ...`` and exits 1.
"""


class RecipeError(ValueError):
    """A recipe file that cannot be used; the message names the file."""


class ModelNotFoundError(ValueError):
    """A model URI, directory, alias, version or tracking store that does not exist."""


class BadInputError(ValueError):
    """Prediction input that is not text; the message names the row and the value's type."""
