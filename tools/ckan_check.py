#!/usr/bin/env python3
"""Read yiwang's open data with the stock `ckanapi` client (pip install ckanapi), exactly as a
CKAN harvester or script would: list, show, search with filters and facets, organizations,
groups, a resource and its rows. Exit 0 when everything answers as CKAN would.

    python3 tools/ckan_check.py http://127.0.0.1:8080
"""

import sys

import ckanapi


def main(url: str) -> int:
    ckan = ckanapi.RemoteCKAN(url, user_agent="yiwang-ckan-check/1.0")
    names = ckan.action.package_list()
    assert len(names) >= 20, f"{len(names)} datasets"
    page = ckan.action.package_list(limit=5, offset=5)
    assert page == names[5:10], page

    pkg = ckan.action.package_show(id="qingshan-bus-lines")
    assert pkg["name"] == "qingshan-bus-lines" and pkg["resources"], pkg
    assert pkg["organization"]["title"] == "江川省交通运输厅", pkg["organization"]

    found = ckan.action.package_search(q="公交", rows=5)
    assert found["count"] >= 1 and found["results"][0]["name"] == "qingshan-bus-lines", found["count"]
    org = pkg["organization"]["name"]
    filtered = ckan.action.package_search(fq=f"organization:{org}", rows=100, **{"facet.field": '["groups", "res_format"]'})
    assert filtered["count"] >= 1 and all(p["organization"]["name"] == org for p in filtered["results"])
    assert filtered["facets"]["res_format"].get("CSV", 0) == filtered["count"], filtered["facets"]

    orgs = ckan.action.organization_list()
    assert org in orgs, orgs
    full = ckan.action.organization_list(all_fields=True)
    assert all("package_count" in o for o in full)
    shown = ckan.action.organization_show(id=org, include_datasets=True)
    assert shown["package_count"] == len(shown["packages"]) >= 1
    groups = ckan.action.group_list(all_fields=True)
    assert any(g["name"] == "transport" and g["package_count"] >= 1 for g in groups), groups

    rid = pkg["resources"][0]["id"]
    res = ckan.action.resource_show(id=rid)
    assert res["format"] == "CSV" and res["url"].endswith("/download"), res
    rows = ckan.action.datastore_search(resource_id=rid, limit=3)
    assert rows["total"] >= 10 and len(rows["records"]) == 3, rows
    one = ckan.action.datastore_search(resource_id=rid, filters={"线路": "3路"})
    assert one["total"] == 1 and one["records"][0]["线路"] == "3路", one

    try:
        ckan.action.package_show(id="no-such-dataset")
        raise AssertionError("a missing dataset must be NotFound")
    except ckanapi.NotFound:
        pass
    print(f"ckanapi: {len(names)} datasets, {len(orgs)} organizations, search/filter/facets/datastore OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"))
