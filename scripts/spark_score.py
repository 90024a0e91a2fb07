"""spark-submit's entry point for `stance score --engine spark` (spark-submit runs .py files):

    spark-submit --master URL scripts/spark_score.py INPUT... --out OUT.parquet --model DIR
"""

import sys

from stance.cli import main

sys.exit(main(["score", "--engine", "spark", *sys.argv[1:]]))
