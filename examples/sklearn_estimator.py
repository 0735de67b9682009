"""fastnn in scikit-learn: the chapter's default network as an estimator in a Pipeline and a grid search.

`NeuralNetClassifier` passes scikit-learn's own estimator checks, so it works wherever an estimator
does: a Pipeline with a scaler, GridSearchCV over its hyperparameters (here dropout and the learning
rate), cross_val_score; predict returns the original labels.

    python examples/sklearn_estimator.py
"""
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastnn.sklearn import NeuralNetClassifier

X, y = load_digits(return_X_y=True)
names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
X_train, X_test, y_train, y_test = train_test_split(X, names[y], test_size=0.25, random_state=0, stratify=y)

pipe = make_pipeline(StandardScaler(), NeuralNetClassifier(hidden_layer_sizes=(100,), max_epochs=20,
                                                           random_state=0))
search = GridSearchCV(pipe, {"neuralnetclassifier__dropout": [0.0, 0.2],
                             "neuralnetclassifier__lr": [0.01, 0.05]}, cv=3)
search.fit(X_train, y_train)
print("best parameters:", search.best_params_)
print(f"cross-validated accuracy {search.best_score_:.3f}, test accuracy {search.score(X_test, y_test):.3f}")
print("predictions are labels:", search.predict(X_test[:5]))
