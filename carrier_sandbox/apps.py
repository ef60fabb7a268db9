from django.apps import AppConfig


class CarrierSandboxConfig(AppConfig):
    """A development and test tool: a local server speaking the carriers' formats.

    The product's apps never import it. When installed, it lets `manage.py track sandbox …`
    ask its native format (a code that no shipment can have).
    """

    name = "carrier_sandbox"
    verbose_name = "Carrier sandbox"

    def ready(self) -> None:
        from shipments.carriers import registry

        from .native_adapter import CARRIER, SandboxAdapter

        registry.register(CARRIER, SandboxAdapter)
