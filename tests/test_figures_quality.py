"""Quality gate for monitor.figures, like trafilatura's: the scores on every labelled set must not drop.

The sets (docs/figures.md, "Evaluation"): the 1,560 real feed items sampled from shared/corpus/feed_items and four
further English samples (700, 700, 700, 397 items; labels in tests/figures_data, texts read from shared/),
the 350 texts written for the project in seven languages, and shared/figures/dev.jsonl. Each blind part was
drawn (fixed seed) before the rules it judges were written, and scored once at the end of that work; all are
gated here so that later changes cannot quietly undo them.

The data is pinned by digest: a gate that silently scores other data is no gate. When shared/ is present and
a score drops below its floor the test fails; it never skips under CI (CI=true), where shared/ must be present.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

from monitor.figures import evaluate

HERE = Path(__file__).parent
SHARED = HERE.parents[1] / "shared"
DATA = HERE / "figures_data"

# The bench script that prints the quality table owns which rows make up each set; the gate loads it.
_spec = importlib.util.spec_from_file_location("figures_quality", HERE.parent / "bench" / "figures_quality.py")
assert _spec is not None and _spec.loader is not None
_BENCH = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_BENCH)
ENGLISH_SOURCES: frozenset[str] = _BENCH.ENGLISH_SOURCES

# sha256 of every file the gate scores. Change one only together with re-measured floors.
DIGESTS = {
    SHARED / "figures" / "dev.jsonl": "84e954b65957029756359d989e8c4c5216b071dffbd2f9a10d4d87c9a824e685",
    SHARED / "corpus" / "feed_items" / "pool.jsonl": "e564b60b83f637d0f8b44210afc0308431dbe470e9d651dcd7a3f1159c229fc3",
    DATA / "feed_items_gold.jsonl": "6ae7e5016e104adce06e3753de5b3555abe50332cee43f00c12bc9e223365cf9",
    DATA / "feed_items_blind2_gold.jsonl": "174b0d643c0f57b6a8e77dd2b306f6fa2367c82ee5b65033c5d9d6f6417f7e39",
    DATA / "feed_items_blind3_gold.jsonl": "ce3fd51ad6d488225c687bc09515afa0f427f2f4f84fa15f0e2aaec17fd20a19",
    DATA / "feed_items_blind4_gold.jsonl": "bd6af51b28333f5b9bb6c4cef2de160cf22368c76bb0560676412eaa38171cab",
    DATA / "feed_items_blind5_gold.jsonl": "5c7cc663bde86ce68b21031de1b78badd3ed9624cc52c99fafa80d10e664d59b",
    DATA / "deployments_captives.jsonl": "4813dc08ab146a7433f661d8afbcbc38dcb32cf52e95ea914b6a6ee7256bbe3e",
    DATA / "multilingual_de_es_fr.jsonl": "a501c0c258279918370c8e386e79149d4fea2008df38006f907a62c1bee69a07",
    DATA / "multilingual_ko_ja_ru_uk.jsonl": "5235c40b98d39442e0e198de9bc1182440d344dffeb6d4762c0238e7500405e6",
    DATA / "news_blind6_en.jsonl": "6d9007fce3fda3cb29063a27973c9c7c051e9cfdf9ff6ec1abde11f92f588a29",
    DATA / "news_blind9_ml.jsonl": "6a99adda9779ac08cced69a0f165712e4e1bf2b8fe5686eae9399dd2591bfd2e",
    DATA / "news_blind8_en.jsonl": "eadeed7ee0e3896fa7354d32665442a4c573993ce5c9cb3705f7e8b562ed2aff",
    DATA / "news_blind7_en.jsonl": "a616ccf14b65f3294f9ebf4ac97424d348236544859c13a43849d4be32ede48c",
    DATA / "news_blind7_ml.jsonl": "712e2c89038670ec9749a546b0fb3b097b4cac855b9ca02bacc482ef4e5f4a98",
    DATA / "news_blind6_ml.jsonl": "4ead6c4d66827c7fe9075200c882fb27e53ff1457b84c792d1c7fccfb6db47ca",
    DATA / "news_blind10_en.jsonl": "ad752613d603b5bbe07edcb7902348d265eae89c48f79a8ab17db662b0aa85fd",
    DATA / "news_blind10_ml.jsonl": "99fb21e8dfcbf71bb6e912110d8a824dc3479b4d1dfdfbf75a6ae680dc87ab16",
    DATA / "feed_items_blind6_gold.jsonl": "0584d5d34d057a98df05487cee4b1163bb6b25f18bab164240e655547113ed07",
    DATA / "news_blind11_en.jsonl": "a0f89151917613ffd441713b8211769fe2be89d72f0dcdf74c3ce00fe3b5c6fc",
    DATA / "news_blind11_ml.jsonl": "866dfff44ee668dbc85ed2bdb4bbfef9e2481cca83a65e8219c54434634c95fc",
    DATA / "feed_items_blind7_gold.jsonl": "5019d68df1576b1c424781ae3e739890b6368aa50652c83b27bacbe1f7926b02",
    DATA / "news_blind12_en.jsonl": "0b29db06472633ca75f9dd6b0922067fdf14476db6c6e9fa04775b2fbc3c6d8d",
    DATA / "news_blind12_ml.jsonl": "e3f8ce868f2d74179cbbd72f8db6d733cdedc86f8fa5b1ff0d1555ff04c228a6",
    DATA / "feed_items_blind8_gold.jsonl": "4f3bfd40ddb235cc66fbdcdeb045c8a4ed45c39e41b50b12d47ed89d5488fb18",
    DATA / "news_blind13_en.jsonl": "946432af9a05fadbe34390fc907b5cb7c08f6ac61e78f098b17659b6e0e84c2b",
    DATA / "news_blind13_ml.jsonl": "e8104bdcf944cb4138ddd111136832c0f461770aabc16f8930140be82ed0a09d",
    DATA / "feed_items_blind9_gold.jsonl": "d36f02d1722414b4cf7fd76213a39392a133a9fa2dd123cad087c646eea94e5a",
    DATA / "news_blind14_en.jsonl": "db35961aab5cd7f2556b1d44a9e2090f2a9035ff03ae1a986126f29fae283bbc",
    DATA / "news_blind14_ml.jsonl": "8b5a19c0b197a1945f5d4ab99bd98854979e314afafd3957e827ccd14bc534ac",
    DATA / "feed_items_blind10_gold.jsonl": "f778b9f1fdb95d79f7950937ff44979804495ed77b19e0b2db7104354a8f38e9",
    DATA / "news_blind15_en.jsonl": "c774ab8211de8b061c102978cb0b4a6d55fe336d5730d88e580e04fbf36ba9c5",
    DATA / "news_blind15_ml.jsonl": "52aaa46a2e70e1e9ebc86f5b13f5b6c9016328f97361d2c73de05b5c6fcee9cc",
    DATA / "feed_items_blind11_gold.jsonl": "9fedd0c73c0ca185a9bc9f381c18275553397d666dcfcb8591b365d487cd5484",
    DATA / "news_blind16_en.jsonl": "9e762043ca1d003a5eea025e8b6ef43b51a2d1094a44e584699a2f8f94468cd6",
    DATA / "news_blind16_ml.jsonl": "4bb9019531af67f98036f0387ef9bf0e65e760935998e14f3a6cda9cbe278040",
    DATA / "feed_items_blind12_gold.jsonl": "9b7acbef7bce3eda4739d0954b156abb6148a47e7c9c937bebda9dd17fcb79e9",
    DATA / "news_blind17_en.jsonl": "25c2991fae8993c1db1c87698700318ecc4ee9512c18ebfbcc9cfff248199d38",
    DATA / "news_blind17_ml.jsonl": "4a20f0a167340cb074be9f63b298c47680d80dae4faca4f821d7fe21c2803d89",
    DATA / "feed_items_blind13_gold.jsonl": "e99c98d31ca033980cd799a35d3e94960ee93e1b02d3bc4aea31c9d7efeb7147",
    DATA / "news_blind18_en.jsonl": "e9b931a85973d4604caec51ad92c2a81aefd380688c646a52ed6345e72b16459",
    DATA / "news_blind18_ml.jsonl": "dafb5454a2bf6fe4618f138e49ed9df04046f091b4aa50e9f405700f705f0fa8",
    DATA / "feed_items_blind14_gold.jsonl": "bfe73fa60cb777e51c32e8bda2915eb3794c4acab9bb1474631049cd21d7eeeb",
    DATA / "news_blind19_en.jsonl": "581c439603e67ea7927e3980c28e901d8a155f0650f05a0d7d3ea7163c7be935",
    DATA / "news_blind19_ml.jsonl": "3b5b6b5cb783feb0d9c370cb487ea7c1c4c79021668b9d523ca5d69a610e136a",
    DATA / "feed_items_blind15_gold.jsonl": "f05074ce48191de0fb17c5d66d2c6c7983fec78b42d4bb1ab384556bd112f58f",
    DATA / "news_blind20_en.jsonl": "6c72dd07b2c0222b05d3cf753208e37e2dd249b885c0e9b864214e48798af283",
    DATA / "news_blind20_ml.jsonl": "c92d0336a6fbb477208e5427451d91682badee0e25009d57089f35e63ee3b412",
    DATA / "feed_items_blind16_gold.jsonl": "41e8dedc3dd3e635028ac08f4e535e0a6b7facaea8501e011d80e97a6fdaca94",
    DATA / "news_blind21_en.jsonl": "eb603938bdfcfff54ff7f4c8493803ad79964da24e085d2456e6eaf8fff5b575",
    DATA / "news_blind21_ml.jsonl": "922be2a736643f1d6393b0153d6c1513908dd6a4dcaf023c8ef3e9019c176c6b",
    DATA / "feed_items_blind17_gold.jsonl": "ebd38fea9620fd96f9a1f6fd3ff01fedf4477173f471ce95957d4077f3a35e00",
    DATA / "news_blind22_en.jsonl": "9e0efa66bfbf8a6d66d571436f61c7e3beb2f48da5a38c9289f1740a4d0616a2",
    DATA / "news_blind22_ml.jsonl": "8d3ff5c02c193254c56c455cd00147651a9509f41ab199cc8d56bf1e1e95f2ac",
    DATA / "feed_items_blind18_gold.jsonl": "6e47020434944df4a7ad09d6a470b19a4626d400c92fdd840d5e38466004c510",
    DATA / "news_blind23_en.jsonl": "2b845e6323fc1afb7d4c00acbfd5f5d78931ef6c70ad50a4248e50ae2f7b84fd",
    DATA / "news_blind23_ml.jsonl": "397181e30d32559aaf4bcb682af1cea038d3d9005e850a922120a1a36046a0c0",
    DATA / "feed_items_blind19_gold.jsonl": "2fd0ec2ad378e2c3ae2ca0cf20e53184e171f39bbfe2ba1e4d87475a4fde4917",
    DATA / "news_blind24_en.jsonl": "1f5d7de2d2d34a391c13574d7d91808c423d3250f69116470a3cb563c033afcd",
    DATA / "news_blind24_ml.jsonl": "5804d8cb5e42c31da6b8bcaf249025c1edaec1e933601526ea5cb8de9afb0189",
    DATA / "feed_items_blind20_gold.jsonl": "ff26e414344920246e758cbd4f6d558fdef0d60522e83a0a615da95e8573adcf",
}

# Floors: the scores measured when the gate was pinned (figures VERSION 2026.12.03-1; docs/figures.md,
# "Evaluation"), less about 0.01 for rounding. (source, split) -> (precision, recall); "english" is every English
# row of the split together (feed items and shared/figures/dev.jsonl).
OVERALL_FLOORS: dict[tuple[str, str], tuple[float, float]] = {
    ("feed-en", "dev"): (0.97, 0.94),
    ("feed-pl", "dev"): (0.97, 0.93),
    ("shared-dev", "dev"): (0.985, 0.95),
    ("english", "dev"): (0.975, 0.945),
    ("feed-en", "blind"): (0.975, 0.94),
    ("feed-pl", "blind"): (0.955, 0.915),
    ("feed2-en", "blind"): (0.95, 0.905),
    ("feed3-en", "blind"): (0.975, 0.95),
    ("feed4-en", "blind"): (0.935, 0.915),
    ("feed5-en", "blind"): (0.955, 0.91),  # VERSION 2026.12.03-2, scored once: 0.969 / 0.921
    ("english", "blind"): (0.955, 0.925),
    # own texts on deployments and captives (VERSION 2026.12.03-3): dev 0.958 / 0.752, blind 0.902 / 0.687
    ("dc-en", "dev"): (0.945, 0.74),
    ("dc-en", "blind"): (0.89, 0.67),
    # sixth blind sample, own news texts (VERSION 2026.12.03-4, scored once): 0.960 / 0.870
    ("news6-en", "blind"): (0.95, 0.86),
    # seventh blind sample (VERSION 2026.12.03-5, scored once): 0.954 / 0.788
    ("news7-en", "blind"): (0.94, 0.775),
    # eighth blind sample, a natural feed mix, after the learned decider (2026.12.03-6, scored once): 0.990 / 0.926
    ("news8-en", "blind"): (0.98, 0.915),
    # tenth blind sample, after the deciders of 2026.12.03-8 were trained (scored once): 0.964 / 0.919; and real
    # Polish feed items (the sixth Polish sample, scored once): 0.916 / 0.806
    ("news10-en", "blind"): (0.955, 0.91),
    ("feed6-pl", "blind"): (0.905, 0.795),
    # eleventh blind sample and the seventh Polish feed sample (VERSION 2026.12.03-9, scored once): 0.984 / 0.928;
    # 0.905 / 0.782
    ("news11-en", "blind"): (0.975, 0.915),
    ("feed7-pl", "blind"): (0.895, 0.77),
    # twelfth blind sample and the eighth Polish feed sample (VERSION 2026.12.03-10, scored once): 0.973 / 0.936;
    # 0.948 / 0.875
    ("news12-en", "blind"): (0.965, 0.925),
    ("feed8-pl", "blind"): (0.94, 0.865),
    # thirteenth blind sample and the ninth Polish feed sample (VERSION 2026.12.03-11, scored once): 0.990 / 0.939;
    # 0.955 / 0.866
    ("news13-en", "blind"): (0.98, 0.925),
    ("feed9-pl", "blind"): (0.945, 0.855),
    # fourteenth blind sample and the tenth Polish feed sample (VERSION 2026.12.03-13, scored once): 0.984 / 0.924;
    # 0.964 / 0.855
    ("news14-en", "blind"): (0.975, 0.91),
    ("feed10-pl", "blind"): (0.955, 0.845),
    # fifteenth blind sample and the eleventh Polish feed sample (VERSION 2026.12.03-14, scored once): 0.994 / 0.937;
    # 0.926 / 0.935
    ("news15-en", "blind"): (0.985, 0.925),
    ("feed11-pl", "blind"): (0.915, 0.925),
    # sixteenth blind sample and the twelfth Polish feed sample (VERSION 2026.12.03-16, scored once): 0.990 / 0.958;
    # 0.946 / 0.861
    ("news16-en", "blind"): (0.98, 0.945),
    ("feed12-pl", "blind"): (0.935, 0.85),
    # seventeenth blind sample and the thirteenth Polish feed sample (VERSION 2026.12.03-18, scored once): 0.961 /
    # 0.950; 0.965 / 0.925
    ("news17-en", "blind"): (0.95, 0.94),
    ("feed13-pl", "blind"): (0.955, 0.915),
    # eighteenth blind sample and the fourteenth Polish feed sample (VERSION 2026.12.03-19, scored once): 0.977 /
    # 0.931; 0.939 / 0.860
    ("news18-en", "blind"): (0.965, 0.92),
    ("feed14-pl", "blind"): (0.93, 0.85),
    # nineteenth blind sample and the fifteenth Polish feed sample (VERSION 2026.12.03-20, scored once): 0.983 /
    # 0.941; 0.849 / 0.874
    ("news19-en", "blind"): (0.975, 0.93),
    ("feed15-pl", "blind"): (0.84, 0.865),
    # twentieth blind sample and the sixteenth Polish feed sample (VERSION 2026.12.03-21, scored once): 0.974 /
    # 0.929; 0.911 / 0.836
    ("news20-en", "blind"): (0.965, 0.92),
    ("feed16-pl", "blind"): (0.9, 0.825),
    # twenty-first blind sample and the seventeenth Polish feed sample (VERSION 2026.12.03-22, scored once): 0.982 /
    # 0.949; 0.916 / 0.907
    ("news21-en", "blind"): (0.975, 0.94),
    ("feed17-pl", "blind"): (0.905, 0.895),
    # twenty-second blind sample and the eighteenth Polish feed sample (VERSION 2026.12.03-23, scored once): 0.994
    # / 0.935; 0.967 / 0.874
    ("news22-en", "blind"): (0.985, 0.925),
    ("feed18-pl", "blind"): (0.955, 0.86),
    # twenty-third blind sample and the nineteenth Polish feed sample (VERSION 2026.12.03-24, scored once; their
    # annotators were given the specification's claimant wording): 0.985 / 0.946; 0.939 / 0.885
    ("news23-en", "blind"): (0.975, 0.935),
    ("feed19-pl", "blind"): (0.925, 0.87),
    # twenty-fourth blind sample and the twentieth Polish feed sample (VERSION 2026.12.03-25, scored once): 0.975 /
    # 0.952; 0.962 / 0.862
    ("news24-en", "blind"): (0.965, 0.94),
    ("feed20-pl", "blind"): (0.95, 0.85),
}
LANGUAGE_F1_FLOORS: dict[tuple[str, str], float] = {
    ("own-de", "dev"): 0.97,
    ("own-es", "dev"): 0.98,
    ("own-fr", "dev"): 0.98,
    ("own-ja", "dev"): 0.98,
    ("own-ko", "dev"): 0.97,
    ("own-ru", "dev"): 0.95,
    ("own-uk", "dev"): 0.98,
    ("feed-pl", "dev"): 0.95,
    ("own-de", "blind"): 0.95,
    ("own-es", "blind"): 0.95,
    ("own-fr", "blind"): 0.96,  # 0.970 at 2026.12.03-10: the pooled decider adds one doubtful deployment
    ("own-ja", "blind"): 0.95,
    ("own-ko", "blind"): 0.91,
    ("own-ru", "blind"): 0.88,
    ("own-uk", "blind"): 0.95,
    ("feed-pl", "blind"): 0.935,
    # sixth blind sample (VERSION 2026.12.03-4, scored once): de 0.889, es 0.912, fr 0.909, ja 0.931, ko 0.820,
    # ru 0.857, uk 0.893
    ("news6-de", "blind"): 0.88,
    ("news6-es", "blind"): 0.90,
    ("news6-fr", "blind"): 0.90,
    ("news6-ja", "blind"): 0.92,
    ("news6-ko", "blind"): 0.81,
    ("news6-ru", "blind"): 0.85,
    ("news6-uk", "blind"): 0.88,
    # seventh blind sample (VERSION 2026.12.03-5, scored once): de 0.955, es 0.889, fr 0.844, ja 0.864, ko 0.857,
    # ru 0.840, uk 0.870
    ("news7-de", "blind"): 0.94,
    ("news7-es", "blind"): 0.88,
    ("news7-fr", "blind"): 0.83,
    ("news7-ja", "blind"): 0.85,
    ("news7-ko", "blind"): 0.84,
    ("news7-ru", "blind"): 0.83,
    ("news7-uk", "blind"): 0.86,
    # ninth blind sample, other languages (VERSION 2026.12.03-7, scored once): de 0.927, es 0.857, fr 0.927, ja 0.857,
    # ko 0.936, ru 0.909, uk 0.917
    ("news8-de", "blind"): 0.91,
    ("news8-es", "blind"): 0.84,
    ("news8-fr", "blind"): 0.91,
    ("news8-ja", "blind"): 0.84,
    ("news8-ko", "blind"): 0.92,
    ("news8-ru", "blind"): 0.89,
    ("news8-uk", "blind"): 0.90,
    # tenth blind sample, other languages (VERSION 2026.12.03-8, scored once): de 0.878, es 0.894, fr 0.837, ja 0.933,
    # ko 0.863, ru 0.943, uk 0.926; real Polish feed items 0.857
    ("news10-de", "blind"): 0.86,
    ("news10-es", "blind"): 0.88,
    ("news10-fr", "blind"): 0.82,
    ("news10-ja", "blind"): 0.92,
    ("news10-ko", "blind"): 0.85,
    ("news10-ru", "blind"): 0.93,
    ("news10-uk", "blind"): 0.91,
    ("feed6-pl", "blind"): 0.845,
    # eleventh blind sample, other languages (VERSION 2026.12.03-9, scored once): de 0.878, es 0.943, fr 0.933,
    # ja 0.898, ko 0.926, ru 0.943, uk 0.800; real Polish feed items 0.839
    ("news11-de", "blind"): 0.86,
    ("news11-es", "blind"): 0.93,
    ("news11-fr", "blind"): 0.92,
    ("news11-ja", "blind"): 0.88,
    ("news11-ko", "blind"): 0.91,
    ("news11-ru", "blind"): 0.93,
    ("news11-uk", "blind"): 0.79,
    ("feed7-pl", "blind"): 0.83,
    # twelfth blind sample, other languages (VERSION 2026.12.03-10, scored once): de 0.905, es 0.963, fr 0.936,
    # ja 0.868, ko 0.862, ru 0.885, uk 0.949; real Polish feed items 0.910
    ("news12-de", "blind"): 0.89,
    ("news12-es", "blind"): 0.95,
    ("news12-fr", "blind"): 0.92,
    ("news12-ja", "blind"): 0.85,
    ("news12-ko", "blind"): 0.85,
    ("news12-ru", "blind"): 0.87,
    ("news12-uk", "blind"): 0.93,
    ("feed8-pl", "blind"): 0.90,
    # thirteenth blind sample, other languages (VERSION 2026.12.03-11, scored once): de 0.980, es 0.943, fr 0.868,
    # ja 0.958, ko 0.935, ru 0.981, uk 0.898; real Polish feed items 0.908
    ("news13-de", "blind"): 0.96,
    ("news13-es", "blind"): 0.93,
    ("news13-fr", "blind"): 0.85,
    ("news13-ja", "blind"): 0.94,
    ("news13-ko", "blind"): 0.92,
    ("news13-ru", "blind"): 0.96,
    ("news13-uk", "blind"): 0.88,
    ("feed9-pl", "blind"): 0.89,
    # fourteenth blind sample, other languages (VERSION 2026.12.03-13, scored once): de 0.821, es 0.933, fr 0.979,
    # ja 0.957, ko 0.923, ru 0.844, uk 0.809; real Polish feed items 0.906
    ("news14-de", "blind"): 0.80,
    ("news14-es", "blind"): 0.92,
    ("news14-fr", "blind"): 0.96,
    ("news14-ja", "blind"): 0.94,
    ("news14-ko", "blind"): 0.91,
    ("news14-ru", "blind"): 0.83,
    ("news14-uk", "blind"): 0.79,
    ("feed10-pl", "blind"): 0.89,
    # fifteenth blind sample, other languages (VERSION 2026.12.03-14, scored once): de 0.939, es 0.939, fr 0.957,
    # ja 0.842, ko 0.915, ru 0.962, uk 0.931; real Polish feed items 0.930
    ("news15-de", "blind"): 0.92,
    ("news15-es", "blind"): 0.92,
    ("news15-fr", "blind"): 0.94,
    ("news15-ja", "blind"): 0.83,
    ("news15-ko", "blind"): 0.90,
    ("news15-ru", "blind"): 0.95,
    ("news15-uk", "blind"): 0.92,
    ("feed11-pl", "blind"): 0.92,
    # sixteenth blind sample, other languages (VERSION 2026.12.03-16, scored once): de 0.889, es 0.844, fr 0.905,
    # ja 1.000, ko 0.894, ru 0.880, uk 0.846; real Polish feed items 0.902
    ("news16-de", "blind"): 0.87,
    ("news16-es", "blind"): 0.83,
    ("news16-fr", "blind"): 0.89,
    ("news16-ja", "blind"): 0.98,
    ("news16-ko", "blind"): 0.88,
    ("news16-ru", "blind"): 0.86,
    ("news16-uk", "blind"): 0.83,
    ("feed12-pl", "blind"): 0.89,
    # seventeenth blind sample, other languages (VERSION 2026.12.03-18, scored once): de 0.909, es 0.957, fr 0.930,
    # ja 0.955, ko 0.936, ru 0.955, uk 1.000; real Polish feed items 0.945
    ("news17-de", "blind"): 0.89,
    ("news17-es", "blind"): 0.94,
    ("news17-fr", "blind"): 0.91,
    ("news17-ja", "blind"): 0.94,
    ("news17-ko", "blind"): 0.92,
    ("news17-ru", "blind"): 0.94,
    ("news17-uk", "blind"): 0.98,
    ("feed13-pl", "blind"): 0.93,
    # eighteenth blind sample, other languages (VERSION 2026.12.03-19, scored once): de 0.909, es 0.915, fr 0.877,
    # ja 0.945, ko 0.964, ru 0.902, uk 0.968; real Polish feed items 0.898
    ("news18-de", "blind"): 0.89,
    ("news18-es", "blind"): 0.90,
    ("news18-fr", "blind"): 0.86,
    ("news18-ja", "blind"): 0.93,
    ("news18-ko", "blind"): 0.95,
    ("news18-ru", "blind"): 0.89,
    ("news18-uk", "blind"): 0.95,
    ("feed14-pl", "blind"): 0.88,
    # nineteenth blind sample, other languages (VERSION 2026.12.03-20, scored once): de 0.875, es 0.863, fr 0.875,
    # ja 0.941, ko 0.943, ru 0.889, uk 0.920; real Polish feed items 0.861
    ("news19-de", "blind"): 0.86,
    ("news19-es", "blind"): 0.85,
    ("news19-fr", "blind"): 0.86,
    ("news19-ja", "blind"): 0.93,
    ("news19-ko", "blind"): 0.93,
    ("news19-ru", "blind"): 0.87,
    ("news19-uk", "blind"): 0.90,
    ("feed15-pl", "blind"): 0.85,
    # twentieth blind sample, other languages (VERSION 2026.12.03-21, scored once): de 0.893, es 0.920, fr 0.909,
    # ja 0.920, ko 0.949, ru 0.912, uk 0.873; real Polish feed items 0.872
    ("news20-de", "blind"): 0.88,
    ("news20-es", "blind"): 0.91,
    ("news20-fr", "blind"): 0.9,
    ("news20-ja", "blind"): 0.91,
    ("news20-ko", "blind"): 0.94,
    ("news20-ru", "blind"): 0.9,
    ("news20-uk", "blind"): 0.86,
    ("feed16-pl", "blind"): 0.86,
    # twenty-first blind sample, other languages (VERSION 2026.12.03-22, scored once): de 0.862, es 0.906, fr 0.929,
    # ja 1.000, ko 0.943, ru 0.836, uk 0.947; real Polish feed items 0.912
    ("news21-de", "blind"): 0.85,
    ("news21-es", "blind"): 0.895,
    ("news21-fr", "blind"): 0.92,
    ("news21-ja", "blind"): 0.99,
    ("news21-ko", "blind"): 0.93,
    ("news21-ru", "blind"): 0.825,
    ("news21-uk", "blind"): 0.935,
    ("feed17-pl", "blind"): 0.9,
    # twenty-second blind sample, other languages (VERSION 2026.12.03-23, scored once): de 0.936, es 0.923, fr 0.982,
    # ja 0.923, ko 0.926, ru 0.923, uk 0.929; real Polish feed items 0.918
    ("news22-de", "blind"): 0.925,
    ("news22-es", "blind"): 0.91,
    ("news22-fr", "blind"): 0.97,
    ("news22-ja", "blind"): 0.91,
    ("news22-ko", "blind"): 0.915,
    ("news22-ru", "blind"): 0.91,
    ("news22-uk", "blind"): 0.915,
    ("feed18-pl", "blind"): 0.905,
    # twenty-third blind sample, other languages (VERSION 2026.12.03-24, scored once): de 0.941, es 0.821, fr 0.923,
    # ja 0.875, ko 0.933, ru 0.920, uk 0.857; real Polish feed items 0.911
    ("news23-de", "blind"): 0.93,
    ("news23-es", "blind"): 0.81,
    ("news23-fr", "blind"): 0.91,
    ("news23-ja", "blind"): 0.865,
    ("news23-ko", "blind"): 0.92,
    ("news23-ru", "blind"): 0.91,
    ("news23-uk", "blind"): 0.845,
    ("feed19-pl", "blind"): 0.9,
    # twenty-fourth blind sample, other languages (VERSION 2026.12.03-25, scored once): de 0.923, es 0.958, fr 0.952,
    # ja 0.889, ko 0.981, ru 0.964, uk 0.941; real Polish feed items 0.909
    ("news24-de", "blind"): 0.91,
    ("news24-es", "blind"): 0.945,
    ("news24-fr", "blind"): 0.94,
    ("news24-ja", "blind"): 0.875,
    ("news24-ko", "blind"): 0.97,
    ("news24-ru", "blind"): 0.95,
    ("news24-uk", "blind"): 0.93,
    ("feed20-pl", "blind"): 0.895,
}
ENGLISH_CATEGORY_F1_FLOORS: dict[tuple[str, str], float] = {
    ("killed", "dev"): 0.965,
    ("wounded", "dev"): 0.98,
    ("deployed", "dev"): 0.92,
    ("casualties", "dev"): 0.94,
    ("captured", "dev"): 0.85,
    ("missing", "dev"): 0.91,
    ("killed", "blind"): 0.955,
    ("wounded", "blind"): 0.95,
    ("missing", "blind"): 0.915,  # 0.926 with the fifth
    ("captured", "blind"): 0.70,
    ("casualties", "blind"): 0.75,  # captured: no nationality rule (see CHANGELOG)
}
# With the deployments-and-captives texts in (their annotators credit a headline's figure to the source the
# description names; the feed items' annotators mostly leave it null): dev 0.836, blind 0.846; with the sixth blind
# sample in (VERSION 2026.12.03-4): blind 0.843 (0.867 without it); with the seventh too (2026.12.03-5): blind 0.828
# (the floor follows the data it is measured on: the earlier blind parts alone did not drop); with the eighth and
# ninth (2026.12.03-7): blind 0.814; with the tenth and the sixth Polish sample (2026.12.03-8): blind 0.822; with the
# eleventh and the seventh Polish sample (2026.12.03-9): blind 0.800 (one of the eleventh's annotators credits a
# headline figure to the body's source, so either name counts and a null is wrong); with the twelfth and the eighth
# Polish sample (2026.12.03-10): blind 0.793; with the thirteenth and the ninth Polish sample (2026.12.03-11): 0.786;
# with the fourteenth and the tenth (2026.12.03-13): 0.781. A headline's figure sourced by the body, a subject
# closing a clause as its source, a day between source and verb in Korean and Japanese (2026.12.03-14 and after,
# with the fifteenth and the eleventh Polish sample in): dev 0.850, blind 0.835; with the sixteenth and the twelfth
# Polish sample (2026.12.03-16): dev 0.851, blind 0.841. With sources continued to the figures after them and
# sentences pointing back (2026.12.03-21, the twentieth and the sixteenth Polish sample in): dev 0.855, blind 0.865.
CLAIMANT_FLOORS: dict[str, float] = {"dev": 0.845, "blind": 0.855}


def _require_shared() -> None:
    if not SHARED.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED} is missing: CI must run the quality gate; lay shared/ beside the clone.")
        pytest.skip(f"shared data not found at {SHARED} (clone shared/ next to the repo)")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(split: str) -> list[dict[str, Any]]:
    """The labelled rows of `split`, assembled exactly as bench/figures_quality.py prints them (one definition)."""
    return list(_BENCH.rows_of(SHARED, split))


@pytest.fixture(scope="module", params=["dev", "blind"])
def scored(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any], dict[str, Any]]:
    _require_shared()
    split = str(request.param)
    rows = _rows(split)
    english = [r for r in rows if r["source"] in ENGLISH_SOURCES]
    return split, evaluate.score(rows, evaluate.predict(rows)), evaluate.score(english, evaluate.predict(english))


def test_the_data_is_the_data_the_floors_were_measured_on() -> None:
    _require_shared()
    for path, digest in DIGESTS.items():
        assert path.exists(), f"{path} is missing"
        assert _digest(path) == digest, (
            f"{path} changed (sha256 {_digest(path)}): re-measure the floors with bench/figures_quality.py "
            "and pin the new digest together with them"
        )


def test_overall_floors(scored: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    split, result, english = scored
    for (name, floor_split), (precision, recall) in OVERALL_FLOORS.items():
        if floor_split != split:
            continue
        s = english["overall"] if name == "english" else result["sources"][name]
        assert s["precision"] >= precision and s["recall"] >= recall, (name, split, s)


def test_language_floors(scored: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    split, result, _ = scored
    for (name, floor_split), f1 in LANGUAGE_F1_FLOORS.items():
        if floor_split == split:
            assert result["sources"][name]["f1"] >= f1, (name, split, result["sources"][name])


def test_english_category_floors(scored: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    split, _, english = scored
    for (category, floor_split), f1 in ENGLISH_CATEGORY_F1_FLOORS.items():
        if floor_split == split:
            assert english["categories"][category]["f1"] >= f1, (category, split, english["categories"][category])


def test_claimant_floor(scored: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    split, result, _ = scored
    assert result["claimant_accuracy"] >= CLAIMANT_FLOORS[split], (split, result["claimant_accuracy"])
