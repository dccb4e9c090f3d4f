"""Model aliases for ``kitaru.llm()`` (``kitaru model register/list``)."""

from kitaru._model_registry import ModelAlias, ResolvedModel, list_aliases, register_alias, resolve

__all__ = ["ModelAlias", "ResolvedModel", "list_aliases", "register_alias", "resolve"]
