# One image for the API and the workers: `nianbao serve` or `nianbao worker`.
FROM python:3.11-slim-bookworm

# Fonts and libraries the pipeline needs at run time (CJK fonts for rendering, libGL-free OpenCV,
# pango/cairo for weasyprint's synthetic reports).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      fonts-noto-cjk libglib2.0-0 libgomp1 libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 nianbao
WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
COPY extractor/__init__.py extractor/__init__.py
# torch is pinned in pyproject.toml. The default wheel of that version carries CUDA (several GB);
# to get the CPU-only build, pass an index or mirror that serves CPU wheels of torch:
#   docker compose build --build-arg TORCH_INDEX=<url>
ARG TORCH_INDEX=
RUN pip install --no-cache-dir --upgrade pip \
 && pip install --no-cache-dir ${TORCH_INDEX:+--index-url "$TORCH_INDEX"} torch==2.13.0 \
 && pip install --no-cache-dir -e '.[service]'

COPY alembic.ini ./
COPY extractor extractor
COPY workers workers
COPY models models
RUN pip install --no-cache-dir --no-deps -e '.[service]'

ENV NIANBAO_STORAGE__ROOT=/data/store \
    PYTHONUNBUFFERED=1
RUN mkdir -p /data/store && chown -R nianbao /data
USER nianbao

EXPOSE 8000
CMD ["nianbao", "serve", "--host", "0.0.0.0", "--port", "8000"]
