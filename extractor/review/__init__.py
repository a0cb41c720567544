"""The review loop: accounts, the queue with its leases, decisions, training export, calibration.

The service's reviewer page and its JSON endpoints live in :mod:`extractor.api.review`; this
package holds what they (and the CLI) call, independent of HTTP.
"""
