"""pydantic models of the optimiser's inputs (tables, settings) and of its summary output."""

from models.inputs import (
    TABLES,
    BudgetRow,
    CapacityRow,
    Dataset,
    DemandRow,
    InflowRow,
    PipelineRow,
    Profession,
    RecruitmentSourceRow,
    Region,
    Settings,
    SupervisionRow,
    TableSpec,
    WorkforceRow,
)
from models.results import Summary

__all__ = [
    "TABLES",
    "BudgetRow",
    "CapacityRow",
    "Dataset",
    "DemandRow",
    "InflowRow",
    "PipelineRow",
    "Profession",
    "RecruitmentSourceRow",
    "Region",
    "Settings",
    "Summary",
    "SupervisionRow",
    "TableSpec",
    "WorkforceRow",
]
