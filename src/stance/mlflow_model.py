"""The pyfunc model's code, logged with every model ("models from code", no pickling).

MLflow runs this file when it loads a stance model; nothing else imports it.
"""

import mlflow

from stance.registry import StancePyfunc

mlflow.models.set_model(StancePyfunc())
