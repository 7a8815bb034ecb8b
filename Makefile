# covgap: `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint pytest system-deps bench-deps sample docs clean

# A stamp per extra, remade when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## demo: install covgap and run it on the bundled sample province
# --force: the demo's run directory is the sample's own and is safe to replace.
demo: $(VENV)/.installed
	$(BIN)/covgap demo --force

## test: install covgap with the dev tools, lint, and run the whole test suite
test: $(VENV)/.installed-dev system-deps lint pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

pytest: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

# Debian packages the tests compare against or drive: chromium (the map in a real
# browser), gdal-bin (gdal_viewshed checks the terrain model's line of sight),
# libreoffice-calc-nogui (report.xlsx printed to PDF headless) and poppler-utils
# (pdftoppm keeps the PDF's first page as a PNG).
# Installed only when absent and we may (root with apt-get); else those tests skip.
SYSTEM_DEPS := chromium:chromium gdal_viewshed:gdal-bin soffice:libreoffice-calc-nogui \
               pdftoppm:poppler-utils
system-deps:
	@missing=""; for dep in $(SYSTEM_DEPS); do \
	  cmd=$${dep%%:*}; pkgs=$${dep#*:}; \
	  command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkgs"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian packages for the tests:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing$$missing: the tests that need them will be skipped"; fi; \
	fi

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

## bench-deps: install what the benchmarks compare with: the [bench] extra (PuLP, spopt,
## rasterstats) and GDAL's Python bindings (osgeo) built for the system's libgdal
# The bindings must match the system's libgdal, so they are not in the extra: with
# libgdal-dev (Debian; installed here when absent and we are root with apt-get),
# `pip install GDAL==$(gdal-config --version)` builds them in a few minutes. It builds
# against the venv's numpy (for ReadAsArray), hence --no-build-isolation, with setuptools
# and wheel present. `make test` does not need any of this.
bench-deps: $(VENV)/.installed-bench
	@if $(BIN)/python -c "from osgeo import gdal, gdal_array" 2>/dev/null; then \
	  echo "GDAL's Python bindings: present"; \
	else \
	  if ! command -v gdal-config >/dev/null 2>&1; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	      echo "installing Debian's libgdal-dev for GDAL's Python bindings"; \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgdal-dev >/dev/null; \
	    else \
	      echo "gdal-config not found: install GDAL's development files (Debian: libgdal-dev)" \
	           "and rerun; the benchmarks skip their GDAL baseline meanwhile"; exit 1; \
	    fi; \
	  fi; \
	  echo "building GDAL $$(gdal-config --version)'s Python bindings (a few minutes)"; \
	  $(BIN)/python -m pip install --quiet setuptools wheel && \
	  $(BIN)/python -m pip install --quiet --no-build-isolation "GDAL==$$(gdal-config --version)" && \
	  $(BIN)/python -c "from osgeo import gdal, gdal_array; print('GDAL', gdal.__version__, 'bindings installed')"; \
	fi

## sample: regenerate the synthetic sample province in data/
sample: $(VENV)/.installed
	$(BIN)/python scripts/make_sample_data.py

## docs: regenerate the configuration reference from the code
docs: $(VENV)/.installed
	$(BIN)/python -c "from covgap.config import reference_markdown as r; print(r())" > docs/configuration.md

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
