# The API image: Python + GDAL runtime libraries come from the wheels; PostGIS runs in its own container.
FROM python:3.11-slim-bookworm
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 GIS_HOST=0.0.0.0 GIS_DATA_DIR=/app/data GIS_VAR_DIR=/app/var
WORKDIR /app
COPY pyproject.toml README.md ./
COPY gis gis
COPY layers layers
COPY api api
COPY tiles tiles
COPY data data
RUN pip install --no-cache-dir . && useradd --system --home /app gis && mkdir -p /app/var && chown gis /app/var
USER gis
EXPOSE 8000
# `gis serve` migrates, loads the bundled data on first start (an empty database) and serves.
CMD ["gis", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
