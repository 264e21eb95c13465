"""Imported by the extraction processes' forkserver, and nowhere else: it pays, once and before any worker
is forked, the start-up costs that each extraction process would otherwise pay on its first pages.

- htmldate hands the dates its own patterns miss to dateparser. The first string that matches no locale
  makes dateparser compile a regular expression for each of its ~200 locales: about 2 s of CPU, in every
  process, on nearly any real corpus (one navigation fragment is enough). The first month-and-time string
  then builds the month names' caches of the locales that know the word (~0.2 s).
- trafilatura merges justext's stoplists on the first page it rescues with justext.
- figures loads its lexicon on the first text.

Workers forked afterwards share all of this. `monitor run` starts the forkserver while Prefect's API starts,
when a core would otherwise be idle (docs/benchmark.md).
"""

from __future__ import annotations

import gc
import logging
import warnings

from monitor import memory

log = logging.getLogger(__name__)


def warm_up() -> None:
    """Build the lazily built state of trafilatura, htmldate and figures in this process.

    Only an optimisation: if a library changed and a step fails, the workers build that state themselves.
    """
    try:
        from htmldate.extractors import get_external_parser
        from trafilatura.external import jt_stoplist_init

        from monitor import figures

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parser = get_external_parser()
            parser.get_date_data("no date here")  # matches no locale: compiles them all
            parser.get_date_data("Sep 30, 9:45")
        jt_stoplist_init()
        figures.find("Some 15,000 soldiers were deployed; 600 were killed.")
    except Exception as e:  # see above
        log.debug("warm-up of the extraction processes skipped: %s", e)


# Everything built here is kept for the processes' whole life: built with the collector held back, then
# frozen, out of the collector's reach, so that a collection in a worker does not write to (and so copy) the
# pages it shares with the forkserver. The forkserver imports this module first (articles._forkserver).
with memory.long_lived():
    import trafilatura  # noqa: F401

    from monitor import articles  # noqa: F401

    warm_up()
    gc.collect()  # the warm-up's garbage, before the rest is frozen
