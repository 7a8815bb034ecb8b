"""One message catalogue: every text a person reads in covgap's outputs, in Vietnamese and English.

:data:`MESSAGES` maps an id to its two texts; :func:`msg` returns one of them.  The
analysis writes its verdicts (reasons, fixes, statuses) in English, once, as the
machine record (``results.gpkg``, the ``en`` CSVs); :func:`translate_text` turns such a
cell into the other language by matching each ``"; "``-separated part against the
``cell.*`` templates of the catalogue, and :func:`translate_frame` does it for the cells
of a table a person reads (:data:`TEXT_COLUMNS`).

The column names of the CSVs are the ``col.*`` ids (:func:`column_names`), so
``covgap.export.csv``, the docx appendix, the static figures, the CLI summary and (in a
later change) the Excel report all read one table.

Numbers a person reads in a Vietnamese document use the Vietnamese format
(:func:`number`): a comma for decimals and a point for thousands (``98,5%``,
``1.520``).  The CSVs keep machine-readable numbers in either language.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

import pandas as pd

__all__ = ["LANGUAGES", "MESSAGES", "TEXT_COLUMNS", "column_names", "english_value",
           "english_words", "msg",
           "number", "percent", "translate_frame", "translate_text"]

#: The languages of the outputs, as ``[output] language`` takes them.
LANGUAGES: tuple[str, ...] = ("vi", "en")

#: id -> {"vi": ..., "en": ...}.  ``col.<column>``: a CSV column name; ``cell.<...>``:
#: a whole cell value or one ``"; "``-separated part of a reason or fix, with
#: ``{placeholders}`` for what it quotes (site ids, operators, distances); ``ind.<id>``:
#: an indicator's name; everything else: labels of the documents and the CLI.
MESSAGES: dict[str, dict[str, str]] = {
    # ---- column names (the CSVs; the Excel report may read them too)
    "col.village_id": {"vi": "Mã thôn", "en": "village_id"},
    "col.village_name": {"vi": "Tên thôn", "en": "village_name"},
    "col.commune_code": {"vi": "Mã xã", "en": "commune_code"},
    "col.commune_name": {"vi": "Tên xã, phường, đặc khu", "en": "commune_name"},
    "col.district": {"vi": "Huyện (cũ, trước 01/7/2025)", "en": "district"},
    "col.population": {"vi": "Dân số", "en": "population"},
    "col.households": {"vi": "Số hộ", "en": "households"},
    "col.lon": {"vi": "Kinh độ", "en": "lon"},
    "col.lat": {"vi": "Vĩ độ", "en": "lat"},
    "col.mbb_share": {"vi": "Tỷ lệ được phủ sóng", "en": "mbb_share"},
    "col.mbb_covered": {"vi": "Có băng rộng di động", "en": "mbb_covered"},
    "col.operators": {"vi": "Doanh nghiệp phủ sóng", "en": "operators"},
    "col.fibre_distance_m": {"vi": "Khoảng cách tới cáp quang (m)", "en": "fibre_distance_m"},
    "col.ftth": {"vi": "Có FTTH", "en": "ftth"},
    "col.lom_song": {"vi": "Lõm sóng", "en": "lom_song"},
    "col.region": {"vi": "Khu vực", "en": "region"},
    "col.difficult": {"vi": "Thôn ĐBKK", "en": "difficult"},
    "col.usp_eligible": {"vi": "Thuộc diện công ích", "en": "usp_eligible"},
    "col.usp_mobile": {"vi": "Công ích di động", "en": "usp_mobile"},
    "col.usp_fibre": {"vi": "Công ích cáp quang", "en": "usp_fibre"},
    "col.usp_mobile_reason": {"vi": "Lý do công ích di động", "en": "usp_mobile_reason"},
    "col.usp_fibre_reason": {"vi": "Lý do công ích cáp quang", "en": "usp_fibre_reason"},
    "col.status": {"vi": "Tình trạng", "en": "status"},
    "col.reason": {"vi": "Nguyên nhân", "en": "reason"},
    "col.fix": {"vi": "Giải pháp đề xuất", "en": "fix"},
    "col.priority": {"vi": "Thứ tự ưu tiên", "en": "priority"},
    "col.gap": {"vi": "Thiếu", "en": "gap"},
    "col.best_operator": {"vi": "Doanh nghiệp đề xuất (tham khảo)", "en": "best_operator"},
    "col.fibre_operator": {"vi": "Nhà mạng cáp quang gần nhất", "en": "fibre_operator"},
    "col.nearest_site_id": {"vi": "Trạm gần nhất", "en": "nearest_site_id"},
    "col.nearest_site_m": {"vi": "Khoảng cách tới trạm (m)", "en": "nearest_site_m"},
    "col.satellite": {"vi": "Đề xuất vệ tinh", "en": "satellite"},
    "col.fibre_extension_m": {"vi": "Chiều dài kéo cáp (m)", "en": "fibre_extension_m"},
    "col.fibre_extension_cost": {"vi": "Chi phí kéo cáp (triệu đồng)",
                                 "en": "fibre_extension_cost"},
    "col.candidate_rank": {"vi": "Điểm đề xuất số", "en": "candidate_rank"},
    "col.rank": {"vi": "Thứ tự", "en": "rank"},
    "col.kind": {"vi": "Loại", "en": "kind"},
    "col.host_site_id": {"vi": "Trạm dùng chung", "en": "host_site_id"},
    "col.operator": {"vi": "Nhà mạng", "en": "operator"},
    "col.population_gained": {"vi": "Dân số được phủ thêm", "en": "population_gained"},
    "col.villages": {"vi": "Số thôn", "en": "villages"},
    "col.cumulative_population": {"vi": "Dân số cộng dồn", "en": "cumulative_population"},
    "col.cost": {"vi": "Chi phí (triệu đồng)", "en": "cost"},
    "col.level": {"vi": "Cấp", "en": "level"},
    "col.code": {"vi": "Mã", "en": "code"},
    "col.name": {"vi": "Tên", "en": "name"},
    "col.indicator": {"vi": "Chỉ tiêu", "en": "indicator"},
    "col.value": {"vi": "Giá trị", "en": "value"},
    "col.target": {"vi": "Mục tiêu", "en": "target"},
    "col.met": {"vi": "Đạt", "en": "met"},
    "col.numerator": {"vi": "Tử số", "en": "numerator"},
    "col.denominator": {"vi": "Mẫu số", "en": "denominator"},
    "col.unit": {"vi": "Đơn vị", "en": "unit"},
    "col.source": {"vi": "Nguồn", "en": "source"},
    "col.villages_mbb": {"vi": "Số thôn có băng rộng di động", "en": "villages_mbb"},
    "col.villages_ftth": {"vi": "Số thôn có FTTH", "en": "villages_ftth"},
    "col.population_mbb": {"vi": "Dân số được phủ sóng", "en": "population_mbb"},
    "col.usp_villages": {"vi": "Số thôn diện công ích", "en": "usp_villages"},
    "col.site_locations": {"vi": "Số vị trí BTS", "en": "site_locations"},
    "col.shared_locations": {"vi": "Số vị trí dùng chung", "en": "shared_locations"},
    "col.centre_5g": {"vi": "Trung tâm xã có 5G", "en": "centre_5g"},
    "col.best_signal_dbm": {"vi": "Tín hiệu tốt nhất (dBm)", "en": "best_signal_dbm"},
    "col.n_operators": {"vi": "Số doanh nghiệp phủ sóng", "en": "n_operators"},
    "col.share_any_operator": {"vi": "Tỷ lệ phủ sóng (mọi doanh nghiệp)",
                               "en": "share_any_operator"},
    "col.share_basis": {"vi": "Cách tính tỷ lệ", "en": "share_basis"},
    "col.nearest_site_operator": {"vi": "Nhà mạng của trạm gần nhất",
                                  "en": "nearest_site_operator"},
    "col.fibre_kind": {"vi": "Loại cáp quang gần nhất", "en": "fibre_kind"},
    "col.fibre_id": {"vi": "Mã cáp quang gần nhất", "en": "fibre_id"},
    "col.legacy_covered": {"vi": "Có sóng 2G/3G", "en": "legacy_covered"},
    "col.shadow_site_id": {"vi": "Trạm bị địa hình che chắn", "en": "shadow_site_id"},
    "col.shadow_operator": {"vi": "Nhà mạng của trạm bị che chắn", "en": "shadow_operator"},
    "col.shadow_dbm": {"vi": "Tín hiệu nếu không có địa hình (dBm)", "en": "shadow_dbm"},
    "col.fibre_extension_basis": {"vi": "Cách tính chiều dài kéo cáp",
                                  "en": "fibre_extension_basis"},
    "col.terrestrial_cost_per_person": {"vi": "Chi phí mặt đất trên một người",
                                        "en": "terrestrial_cost_per_person"},
    "col.cumulative_cost": {"vi": "Chi phí cộng dồn (triệu đồng)", "en": "cumulative_cost"},
    "col.candidate_id": {"vi": "Mã điểm đề xuất", "en": "candidate_id"},
    "col.plan": {"vi": "Phương án", "en": "plan"},
    "col.usp_mobile_villages": {"vi": "Số thôn công ích di động", "en": "usp_mobile_villages"},
    "col.usp_fibre_villages": {"vi": "Số thôn công ích cáp quang", "en": "usp_fibre_villages"},
    "col.signal_status": {"vi": "Tình trạng sóng", "en": "signal_status"},
    "col.registered_operator": {"vi": "DN đăng ký", "en": "registered_operator"},
    "col.fix_mobile": {"vi": "Giải pháp di động đề xuất", "en": "fix_mobile"},
    "col.fix_fibre": {"vi": "Giải pháp cáp quang đề xuất", "en": "fix_fibre"},
    # ---- whole cell values
    "cell.covered": {"vi": "được phủ sóng", "en": "covered"},
    "cell.partial": {"vi": "phủ sóng một phần", "en": "partial"},
    "cell.lom_song": {"vi": "lõm sóng", "en": "lom_song"},
    "cell.status_no_signal": {"vi": "chưa có sóng di động", "en": "no_signal"},
    "cell.status_no_broadband": {"vi": "chỉ có sóng 2G/3G", "en": "no_broadband"},
    "cell.mobile": {"vi": "di động", "en": "mobile"},
    "cell.fibre": {"vi": "cáp quang", "en": "fibre"},
    "cell.mobile+fibre": {"vi": "di động và cáp quang", "en": "mobile+fibre"},
    "cell.new": {"vi": "xây mới", "en": "new"},
    "cell.share": {"vi": "dùng chung", "en": "share"},
    "cell.route": {"vi": "tuyến", "en": "route"},
    "cell.node": {"vi": "điểm nút", "en": "node"},
    "cell.people": {"vi": "dân số", "en": "people"},
    "cell.area": {"vi": "diện tích", "en": "area"},
    "cell.commune": {"vi": "xã", "en": "commune"},
    "cell.the village's old commune": {"vi": "xã cũ của thôn", "en": "the village's old commune"},
    "cell.province": {"vi": "tỉnh", "en": "province"},
    "cell.count": {"vi": "số lượng", "en": "count"},
    "cell.supplied": {"vi": "số liệu cung cấp", "en": "supplied"},
    "cell.map": {"vi": "bản đồ", "en": "map"},
    "cell.reported": {"vi": "số liệu báo cáo", "en": "reported"},
    "cell.all": {"vi": "tất cả", "en": "all"},
    "cell.tower": {"vi": "trạm hiện có", "en": "tower"},
    "cell.grid": {"vi": "lưới điểm", "en": "grid"},
    "cell.high point": {"vi": "điểm cao", "en": "high point"},
    "cell.straight line": {"vi": "đường thẳng", "en": "straight line"},
    "cell.roads": {"vi": "theo đường giao thông", "en": "roads"},
    "cell.point": {"vi": "điểm thôn", "en": "point"},
    "cell.population": {"vi": "dân số", "en": "population"},
    "cell.village point": {"vi": "điểm thôn", "en": "village point"},
    # ---- parts of reasons (analysis/flags.py, analysis/usp.py) and fixes (analysis/villages.py)
    "cell.shadow": {
        "vi": "không có sóng {tech}: bị địa hình che chắn từ trạm {site} ({operator}, "
              "{dbm} dBm nếu không có địa hình)",
        "en": "no {tech} signal: terrain shadow from site {site} ({operator}, "
              "{dbm} dBm without terrain)"},
    "cell.part_covered": {"vi": "{tech} phủ {share} {basis} (quy định {rule})",
                          "en": "{tech} covers {share} of the {basis} (rule {rule})"},
    "cell.weak": {"vi": "sóng {tech} yếu {dbm} dBm (ngưỡng {threshold} dBm)",
                  "en": "weak {tech} signal {dbm} dBm (threshold {threshold} dBm)"},
    "cell.legacy_only": {"vi": "chỉ có sóng 2G/3G, không có {tech}",
                         "en": "only 2G/3G signal, no {tech}"},
    "cell.no_signal": {"vi": "không có sóng {tech}", "en": "no {tech} signal"},
    "cell.nearest_site": {"vi": "trạm {tech} gần nhất {site} ({operator}) cách {km} km",
                          "en": "nearest {tech} site {site} ({operator}) {km} km"},
    "cell.no_fibre_data": {"vi": "không có dữ liệu cáp quang", "en": "no fibre in the data"},
    "cell.nearest_fibre": {"vi": "{kind} cáp quang gần nhất cách {km} km ({operator})",
                           "en": "nearest fibre {kind} {km} km ({operator})"},
    "cell.usp_no_mbb": {"vi": "chưa có băng rộng di động (lõm sóng)",
                        "en": "no mobile broadband (lõm sóng)"},
    "cell.usp_no_ftth": {"vi": "chưa có FTTH", "en": "no FTTH reach"},
    "cell.usp_class": {"vi": "{where} khu vực {region} (QĐ 861/QĐ-TTg)",
                       "en": "{where} class {region} (QĐ 861/QĐ-TTg)"},
    "cell.usp_dbkk": {"vi": "thôn ĐBKK (QĐ 612/QĐ-UBDT)", "en": "ĐBKK village (QĐ 612/QĐ-UBDT)"},
    "cell.usp_border": {"vi": "khu vực biên giới", "en": "border area"},
    "cell.usp_island": {"vi": "xã đảo", "en": "island"},
    "cell.fix_site_near": {
        "vi": "{operator}: xây mới hoặc dùng chung trạm (trạm gần nhất {site} của {owner}, "
              "cách {km} km)",
        "en": "{operator}: new or shared site (nearest site {site} of {owner}, {km} km)"},
    "cell.fix_site": {"vi": "{operator}: xây mới hoặc dùng chung trạm",
                      "en": "{operator}: new or shared site"},
    "cell.fix_fibre": {"vi": "{operator}: kéo cáp quang {km} km từ {kind} {fibre}",
                       "en": "{operator}: extend fibre {km} km from {kind} {fibre}"},
    "cell.fix_fibre_noid": {"vi": "{operator}: kéo cáp quang {km} km từ {kind}",
                            "en": "{operator}: extend fibre {km} km from {kind}"},
    # ---- indicators
    "ind.villages_mbb_pct": {"vi": "Tỷ lệ thôn có băng rộng di động",
                             "en": "Villages with mobile broadband"},
    "ind.villages_ftth_pct": {"vi": "Tỷ lệ thôn có cáp quang FTTH", "en": "Villages with FTTH"},
    "ind.bts_sharing_pct": {"vi": "Tỷ lệ vị trí trạm BTS dùng chung",
                            "en": "BTS locations shared"},
    "ind.population_mbb_pct": {"vi": "Tỷ lệ dân số được phủ băng rộng di động",
                               "en": "Population with mobile broadband"},
    "ind.commune_centres_5g_pct": {"vi": "Tỷ lệ trung tâm xã có 5G",
                                   "en": "Commune centres with 5G"},
    "ind.households_mbb_pct": {"vi": "Tỷ lệ hộ được phủ băng rộng di động",
                               "en": "Households with mobile broadband"},
    "ind.households_ftth_pct": {"vi": "Tỷ lệ hộ có cáp quang FTTH",
                                "en": "Households with FTTH"},
    "ind.usp_villages": {"vi": "Số thôn thuộc diện công ích", "en": "Universal-service villages"},
    "ind.usp_mobile_villages": {"vi": "Số thôn công ích di động",
                                "en": "Universal-service villages, mobile"},
    "ind.usp_fibre_villages": {"vi": "Số thôn công ích cáp quang",
                               "en": "Universal-service villages, fibre"},
    "ind.places_5g_pct": {"vi": "Tỷ lệ điểm có 5G", "en": "Places with 5G"},
    "ind.places_fibre_pct": {"vi": "Tỷ lệ điểm có cáp quang", "en": "Places with fibre"},
    # ---- documents: the appendix (docx) and the figures
    "doc.appendix": {"vi": "PHỤ LỤC", "en": "APPENDIX"},
    "doc.subtitle": {"vi": "Hạ tầng viễn thông: hiện trạng phủ sóng và đề xuất",
                     "en": "Telecommunications infrastructure: coverage and proposals"},
    "doc.run": {"vi": "{title}, năm {year}", "en": "{title}, {year}"},
    "doc.t_indicators": {"vi": "Bảng {n}. Các chỉ tiêu so với mục tiêu",
                         "en": "Table {n}. Indicators against the targets"},
    "doc.t_lom_song": {"vi": "Bảng {n}. Danh sách thôn lõm sóng theo xã",
                       "en": "Table {n}. Villages without mobile broadband (lõm sóng) by commune"},
    "doc.t_no_ftth": {"vi": "Bảng {n}. Danh sách thôn chưa có cáp quang FTTH",
                      "en": "Table {n}. Villages without FTTH"},
    "doc.t_sites": {"vi": "Bảng {n}. Vị trí trạm BTS đề xuất",
                    "en": "Table {n}. Proposed sites"},
    "doc.t_usp_mobile": {"vi": "Bảng {n}. Thôn thuộc diện viễn thông công ích: di động",
                         "en": "Table {n}. Universal-service villages: mobile"},
    "doc.t_usp_fibre": {"vi": "Bảng {n}. Thôn thuộc diện viễn thông công ích: cáp quang",
                        "en": "Table {n}. Universal-service villages: fibre"},
    "doc.figure": {"vi": "Hình {n}. Bản đồ hiện trạng phủ sóng và vị trí đề xuất",
                   "en": "Figure {n}. Coverage and proposed sites"},
    "doc.none": {"vi": "(không có)", "en": "(none)"},
    "doc.stt": {"vi": "STT", "en": "No."},
    "doc.commune": {"vi": "Xã", "en": "Commune"},
    "doc.village": {"vi": "Thôn", "en": "Village"},
    "doc.population": {"vi": "Dân số (người)", "en": "Population"},
    "doc.reason": {"vi": "Nguyên nhân", "en": "Reason"},
    "doc.fix": {"vi": "Giải pháp đề xuất", "en": "Proposed fix"},
    "doc.fibre_km": {"vi": "Khoảng cách tới cáp quang (km)", "en": "Distance to fibre (km)"},
    "doc.indicator": {"vi": "Chỉ tiêu", "en": "Indicator"},
    "doc.value": {"vi": "Hiện trạng", "en": "Value"},
    "doc.target": {"vi": "Mục tiêu", "en": "Target"},
    "doc.met": {"vi": "Đánh giá", "en": "Met"},
    "doc.yes": {"vi": "Đạt", "en": "yes"},
    "doc.no": {"vi": "Chưa đạt", "en": "no"},
    "doc.xy": {"vi": "Tọa độ {crs} (X; Y, m)", "en": "{crs} coordinates (X; Y, m)"},
    "doc.lonlat": {"vi": "Tọa độ WGS84 (kinh độ; vĩ độ)", "en": "WGS84 (lon; lat)"},
    "doc.kind": {"vi": "Xây mới / dùng chung", "en": "New or shared"},
    "doc.gained": {"vi": "Dân số được phủ thêm (người)", "en": "People gained"},
    "doc.cost": {"vi": "Kinh phí dự kiến", "en": "Estimated cost"},
    "doc.usp_reason": {"vi": "Căn cứ", "en": "Grounds"},
    "doc.total": {"vi": "Tổng cộng", "en": "Total"},
    "doc.cost_note": {
        "vi": "Kinh phí để trống khi cấu hình không có đơn giá ([candidates] new_site_cost, "
              "shared_site_cost).",
        "en": "Cost is left empty where the configuration gives no prices "
              "([candidates] new_site_cost, shared_site_cost)."},
    "map.title": {"vi": "Hiện trạng phủ sóng băng rộng di động theo thôn",
                  "en": "Mobile broadband coverage of the villages"},
    "map.commune_title": {"vi": "{commune}: thôn lõm sóng và vị trí đề xuất",
                          "en": "{commune}: villages without coverage and proposed sites"},
    "map.share": {"vi": "Tỷ lệ thôn có băng rộng di động (%)",
                  "en": "Villages with mobile broadband (%)"},
    "map.lom_song": {"vi": "Thôn lõm sóng", "en": "Village without coverage (lõm sóng)"},
    "map.no_ftth": {"vi": "Thôn chưa có FTTH", "en": "Village without FTTH"},
    "map.covered": {"vi": "Thôn được phủ sóng", "en": "Covered village"},
    "map.candidate": {"vi": "Vị trí trạm đề xuất", "en": "Proposed site"},
    "map.site": {"vi": "Trạm BTS hiện có", "en": "Existing site"},
    "map.source": {"vi": "Nguồn: covgap {version}, {title}, năm {year}; hệ tọa độ {crs}.",
                   "en": "Source: covgap {version}, {title}, {year}; coordinates {crs}."},
    "map.north": {"vi": "B", "en": "N"},
    # ---- the CLI's run summary
    "cli.indicators": {"vi": "Chỉ tiêu của tỉnh", "en": "Province indicators"},
    "cli.run_dir": {"vi": "thư mục kết quả", "en": "run directory"},
    "cli.map.html": {"vi": "bản đồ: mở bằng trình duyệt, dùng được khi không có mạng",
                     "en": "the map: open it in a browser, works offline"},
    "cli.villages.csv": {"vi": "mọi thôn: phủ sóng, FTTH, lõm sóng, công ích, nguyên nhân",
                         "en": "every village: coverage, FTTH, lõm sóng, USP, reason"},
    "cli.gaps.csv": {"vi": "thôn cần phục vụ, ưu tiên cao trước (gaps_<nhà mạng>.csv)",
                     "en": "villages to serve, highest priority first (gaps_<operator>.csv)"},
    "cli.candidates.csv": {"vi": "vị trí đề xuất theo thứ tự",
                           "en": "proposed sites in rank order"},
    "cli.indicators.csv": {"vi": "các chỉ tiêu so với mục tiêu",
                           "en": "the plan's indicators against the targets"},
    "cli.report.xlsx": {"vi": "tổng hợp, xã và thôn cần phục vụ cho báo cáo",
                        "en": "summary, communes and gaps for the report"},
    "cli.appendix.docx": {"vi": "các bảng phụ lục của kế hoạch, dán vào Word",
                          "en": "the plan's appendix tables, ready for Word"},
    "cli.figures/": {"vi": "bản đồ tĩnh của tỉnh và từng xã còn thiếu (PNG)",
                     "en": "static maps of the province and each commune with gaps (PNG)"},
    "cli.disputes.csv": {"vi": "thôn mà đo kiểm và mô hình không khớp",
                         "en": "villages where the measured tests and the model disagree"},
    "cli.calibration.csv": {"vi": "hiệu chỉnh mô hình theo RSRP đo, trước và sau",
                            "en": "the model's fit to the measured RSRP, before and after"},
    "cli.speeds.csv": {"vi": "tốc độ tải xuống đo được theo tỉnh, xã, nhà mạng",
                       "en": "measured download speeds per province, commune, operator"},
    "cli.results.gpkg": {"vi": "mọi lớp dữ liệu cho QGIS", "en": "every layer for QGIS"},
    "cli.manifest.json": {"vi": "hồ sơ lần chạy: phiên bản, cấu hình, mã băm dữ liệu",
                          "en": "the run record: version, configuration, input hashes"},
}

#: The CSV columns whose cells a person reads and :func:`translate_frame` translates.
TEXT_COLUMNS: tuple[str, ...] = ("status", "signal_status", "gap", "kind", "reason", "fix",
                                 "fix_mobile", "fix_fibre",
                                 "usp_mobile_reason", "usp_fibre_reason", "level", "source",
                                 "plan", "share_basis", "fibre_kind", "fibre_extension_basis",
                                 "unit")

#: Values that fill a ``{placeholder}`` and are words themselves: translated too.
_WORD_VALUES = ("route", "node", "people", "area", "commune", "the village's old commune")


def _check(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    return language


def msg(key: str, language: str, **values: object) -> str:
    """Return the text of a catalogue id in a language, with its placeholders filled.

    Parameters
    ----------
    key : str
        An id of :data:`MESSAGES`.
    language : {"vi", "en"}
    **values
        The placeholders' values.

    Raises
    ------
    KeyError
        ``key`` is not in the catalogue.

    Examples
    --------
    >>> msg("doc.t_sites", "vi", n=4)
    'Bảng 4. Vị trí trạm BTS đề xuất'
    """
    text = MESSAGES[key][_check(language)]
    return text.format(**values) if values else text


def column_names(language: str) -> dict[str, str]:
    """Return covgap's column names mapped to their names in ``language``.

    Examples
    --------
    >>> column_names("vi")["reason"]
    'Nguyên nhân'
    """
    _check(language)
    return {k[4:]: v[language] for k, v in MESSAGES.items() if k.startswith("col.")}


@lru_cache(maxsize=1)
def _templates() -> list[tuple[re.Pattern[str], str]]:
    """Return the ``cell.*`` parts with placeholders as (English regex, id), longest first."""
    out = []
    for key, texts in MESSAGES.items():
        if not key.startswith("cell.") or "{" not in texts["en"]:
            continue
        pattern = re.sub(r"\\\{(\w+)\\\}", lambda m: f"(?P<{m.group(1)}>.+?)",
                         re.escape(texts["en"]))
        out.append((re.compile(f"^{pattern}$"), key))
    out.sort(key=lambda t: -len(MESSAGES[t[1]]["en"]))
    return out


@lru_cache(maxsize=1)
def _whole() -> dict[str, str]:
    return {v["en"]: k for k, v in MESSAGES.items()
            if k.startswith("cell.") and "{" not in v["en"]}


def _vi_number(text: str) -> str:
    """``"3.6"`` -> ``"3,6"``, ``"80%"`` -> ``"80%"``: a decimal point becomes a comma."""
    return re.sub(r"(?<=\d)\.(?=\d)", ",", text)


@lru_cache(maxsize=1 << 17)  # gaps.csv, gaps_all.csv, the operators' files: the same parts
def _part(text: str, language: str) -> str:
    key = _whole().get(text)
    if key is not None:
        return MESSAGES[key][language]
    for pattern, key in _templates():
        m = pattern.match(text)
        if m is None:
            continue
        values = {}
        for name, value in m.groupdict().items():
            if value in _WORD_VALUES:
                value = MESSAGES[f"cell.{value}"][language]
            elif language == "vi" and name in ("km", "share", "rule", "dbm", "threshold"):
                value = _vi_number(value)
            values[name] = value
        return MESSAGES[key][language].format(**values)
    return text


def translate_text(text: object, language: str) -> object:
    """Translate one cell covgap wrote in English (a value, a reason, a fix) into ``language``.

    Each ``"; "``-separated part is matched against the catalogue's ``cell.*`` ids;
    a part the catalogue does not know (a village name, an id) is kept as it is.
    Missing values and non-text values are returned unchanged.

    Examples
    --------
    >>> translate_text("Viettel: extend fibre 9.0 km from route FO-00013", "vi")
    'Viettel: kéo cáp quang 9,0 km từ tuyến FO-00013'
    >>> translate_text("lom_song", "vi")
    'lõm sóng'
    """
    _check(language)
    if language == "en" or not isinstance(text, str) or text == "":
        return text
    return _translated(text, language)


@lru_cache(maxsize=1 << 17)  # a run's files and workbooks translate the same cells
def _translated(text: str, language: str) -> str:
    return "; ".join(_part(p, language) for p in text.split("; "))


def translate_frame(frame: pd.DataFrame, language: str, *,
                    columns: Iterable[str] = TEXT_COLUMNS) -> pd.DataFrame:
    """Return a copy of a table with the cells of its text columns in ``language``.

    Parameters
    ----------
    frame : DataFrame
        Not modified.
    language : {"vi", "en"}
    columns : iterable of str
        The columns to translate, where present (default :data:`TEXT_COLUMNS`).
    """
    _check(language)
    out = frame.copy()
    if language == "en":
        return out
    for col in columns:
        if col not in out.columns:
            continue
        values = out[col]
        # a string column with some text: each distinct text once, no function per cell
        # (an all-NA one keeps the path below, which types it as it always did)
        if isinstance(values.dtype, pd.StringDtype) and values.notna().any():
            codes, uniques = pd.factorize(values)
            done = pd.array([translate_text(u, language) for u in uniques], dtype=values.dtype)
            out[col] = pd.Series(done.take(codes, allow_fill=True), index=values.index,
                                 name=values.name)
            continue
        uniq = {v: translate_text(v, language) for v in values.dropna().unique()}
        out[col] = values.map(lambda v, u=uniq: u.get(v, v) if isinstance(v, str) else v)
    return out


def english_value(value: object) -> object:
    """Return covgap's English value of a whole cell of a ``vi`` CSV (``"lõm sóng"``).

    For reading a Vietnamese run's tables back (``level``, ``status``, ``gap``, ``kind``,
    ``source`` ...); a value the catalogue does not know, or a composed reason, is
    returned unchanged.

    Examples
    --------
    >>> english_value("tỉnh"), english_value("lõm sóng"), english_value("Bản Chai")
    ('province', 'lom_song', 'Bản Chai')
    """
    if not isinstance(value, str):
        return value
    return _from_vi().get(value, value)


@lru_cache(maxsize=1)
def _from_vi() -> dict[str, str]:
    out: dict[str, str] = {}
    for key, texts in MESSAGES.items():
        if key.startswith("cell.") and "{" not in texts["en"]:
            out.setdefault(texts["vi"], texts["en"])
    return out


def number(value: float, language: str, *, decimals: int = 0) -> str:
    """Format a number for reading: ``1.520``, ``98,5`` (vi); ``1,520``, ``98.5`` (en).

    Examples
    --------
    >>> number(1520, "vi"), number(98.46, "vi", decimals=1), number(1520, "en")
    ('1.520', '98,5', '1,520')
    """
    _check(language)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = f"{value:,.{decimals}f}"
    if language == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def percent(value: float, language: str, *, decimals: int = 1) -> str:
    """Format a percentage for reading (``98,5%`` in Vietnamese).

    Examples
    --------
    >>> percent(98.5, "vi")
    '98,5%'
    """
    text = number(value, language, decimals=decimals)
    return f"{text}%" if text else ""


def english_words(texts: Mapping[str, Mapping[str, str]] = MESSAGES) -> set[str]:
    """Return the English words of the catalogue's cell texts that its Vietnamese never uses.

    The words a Vietnamese output must not contain: what a test scans the ``vi`` CSVs
    for.  Placeholders and words shared by both languages (``km``, ``dBm``, ``FTTH``)
    are left out.
    """
    words: set[str] = set()
    vi_words: set[str] = set()
    for key, t in texts.items():
        if not key.startswith("cell."):
            continue
        words |= set(re.findall(r"[A-Za-z]{3,}", re.sub(r"\{\w+\}", "", t["en"])))
        vi_words |= set(re.findall(r"[A-Za-z]{3,}", t["vi"]))
    return {w.lower() for w in words - vi_words}
