"""Issue 17 row 6: `GET /api/v1/jobs?offset=2000&limit=100` read offset + limit full rows
per tool (4.6 s, 285 MB to 1.2 GB). The page is chosen in SQL: a fixed number of queries,
and full rows read only for the page's own ids, however many jobs the caller has."""

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from calc.models import CalcJob
from pic.models import PicJob

pytestmark = pytest.mark.django_db

CALC_JOBS, PIC_JOBS = 3000, 1000


@pytest.fixture
def many_jobs(user):
    start = timezone.now() - timedelta(days=1)
    calcs = [CalcJob(id=uuid.uuid4(), user=user, numbers=list(range(50)),
                     created_at=start + timedelta(seconds=2 * n)) for n in range(CALC_JOBS)]
    pics = [PicJob(id=uuid.uuid4(), user=user, image_key=f"pic/originals/{n}.png",
                   strength=0.3, format="PNG", width=1, height=1, size=1,
                   created_at=start + timedelta(seconds=2 * n + 1)) for n in range(PIC_JOBS)]
    CalcJob.objects.bulk_create(calcs, batch_size=500)
    PicJob.objects.bulk_create(pics, batch_size=500)
    return sorted(calcs + pics, key=lambda job: job.created_at, reverse=True)


def test_a_deep_page_reads_one_page(api, many_jobs, django_assert_max_num_queries):
    with django_assert_max_num_queries(6) as queries:
        page = api.get("/api/v1/jobs?offset=2000&limit=100").json()
    assert page["count"] == CALC_JOBS + PIC_JOBS
    assert [item["id"] for item in page["items"]] == \
        [str(job.id) for job in many_jobs[2000:2100]]
    # Full rows (numbers, results) come only from queries naming the page's ids; the
    # rest select ids and times, with the page's LIMIT/OFFSET or a count.
    sqls = [q["sql"] for q in queries.captured_queries]
    assert sum("LIMIT 100 OFFSET 2000" in sql for sql in sqls) == 1
    assert any('"numbers"' in sql for sql in sqls)
    for query in sqls:
        if '"numbers"' in query or '"image_key"' in query:
            assert " IN (" in query and len(re.findall(r"'[0-9a-f]{32}'|%s|\?", query)) <= 101
        elif "COUNT(" not in query.upper() and "apitoken" not in query:
            assert "LIMIT 100 OFFSET 2000" in query, query


def test_the_offset_is_capped(api):
    answer = api.get("/api/v1/jobs?offset=10001")
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/problem+json"
