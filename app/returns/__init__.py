"""Statutory returns and inspection data, generated from the live record (shared/domain/returns.md).

- ``cin_census``: the DfE Children in Need census (XML).
- ``ssda903``: the DfE children looked after return (CSV tables).
- ``annex_a``: Ofsted's inspection lists 1-11 (one XLSX workbook).
- ``csc_api``: the DfE children's social care data API payload (JSON).
- ``validators``: run the DfE's own rules (csc-validator-be-cin / -903) from their separate
  environment and list each failure as a data-quality worklist.
- ``imports``: load a council's historical returns (migration from a legacy system).
- ``jobs`` / ``api``: the same returns generated in the background through the API.
"""
