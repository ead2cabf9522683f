"""The process's one botocore Loader: each model read once, a known service found without
listing every service, and models decoded into plain dicts."""

from __future__ import annotations

import functools
import logging
import os

__all__ = ["shared_loader"]

# The members of botocore's Loader and JSONFileLoader (1.44) that the subclasses rely on.
_LOADER_MEMBERS = ("_extras_processor", "_find_extras", "_potential_locations", "file_loader")
_FILE_LOADER_MEMBERS = ("_load_file",)


@functools.cache
def shared_loader(data_path: str | None) -> object:
    """The Loader that our sessions on this data path (AWS_DATA_PATH) share, searching where
    botocore's own create_loader(data_path) would."""
    from botocore import loaders

    stock = loaders.create_loader(data_path)
    if not _has(stock, _LOADER_MEMBERS) or not _has(stock.file_loader, _FILE_LOADER_MEMBERS):
        return stock  # another botocore than the one these subclasses were written against
    return _loader_class()(
        extra_search_paths=stock.search_paths,
        include_default_search_paths=False,
        file_loader=_file_loader_class()(),
    )


def _has(instance: object, names: tuple[str, ...]) -> bool:
    return all(hasattr(instance, name) for name in names)


@functools.cache
def _loader_class() -> type:
    from botocore.loaders import Loader, instance_cache

    class ServiceLoader(Loader):
        """botocore's Loader, except that a service found on the search path is loaded without
        listing every service first (about 900 directory reads, some 25 ms of a cold start).

        A name that no search path holds goes down botocore's own path, so the caller still
        gets its UnknownServiceError naming the known services.
        """

        @instance_cache
        def load_service_model(
            self, service_name: str, type_name: str, api_version: str | None = None
        ) -> dict:
            """The model of this type for the service, with its extras, as botocore loads it."""
            if not self._provides(service_name, type_name):
                return super().load_service_model(service_name, type_name, api_version)

            if api_version is None:
                api_version = self.determine_latest_version(service_name, type_name)
            model = self.load_data(os.path.join(service_name, api_version, type_name))
            extras = self._find_extras(service_name, type_name, api_version)
            self._extras_processor.process(model, extras)
            return model

        def _provides(self, service_name: str, type_name: str) -> bool:
            """Whether list_available_services(type_name) would name the service: a directory
            of exactly that name on the search path, with an API version holding the type."""
            for root in self._potential_locations():
                if service_name not in os.listdir(root):
                    continue
                directory = os.path.join(root, service_name)
                if os.path.isdir(directory) and any(
                    self.file_loader.exists(os.path.join(directory, version, type_name))
                    for version in os.listdir(directory)
                ):
                    return True
            return False

    return ServiceLoader


@functools.cache
def _file_loader_class() -> type:
    import json

    from botocore.loaders import JSONFileLoader

    logger = logging.getLogger("botocore.loaders")

    class PlainFileLoader(JSONFileLoader):
        """botocore's JSON file loader, decoding objects into dicts instead of OrderedDicts.

        Dicts keep their order too, and one holding only strings and numbers is left out of
        the garbage collector's passes: decoding takes about half as long, and so does every
        later full collection of the process.
        """

        def _load_file(self, full_path: str, open_method: object) -> object:
            if not os.path.isfile(full_path):
                return None

            with open_method(full_path, "rb") as file:
                payload = file.read().decode("utf-8")
            logger.debug("Loading JSON file: %s", full_path)
            return json.loads(payload)

    return PlainFileLoader
