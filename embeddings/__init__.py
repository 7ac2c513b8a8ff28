"""The matching engine: text -> vectors -> ranked ids. A plain library: no Flask, no `proeftuin`."""
