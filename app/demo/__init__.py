"""Demo data: a fictional council to try Casework with (``casework demo-data``, ``make run``)."""

from app.demo.generator import (
    DEMO_ACCOUNTS,
    DEMO_INTEGRATION_TOKEN,
    DemoAccount,
    DemoDataRefused,
    DemoSummary,
    ProgressCallback,
    demo_data_loaded,
    load_demo_data,
)

__all__ = [
    "DEMO_ACCOUNTS",
    "DEMO_INTEGRATION_TOKEN",
    "DemoAccount",
    "DemoDataRefused",
    "DemoSummary",
    "ProgressCallback",
    "demo_data_loaded",
    "load_demo_data",
]
