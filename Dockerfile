# chibo image: Airflow 3 with the project installed from the pinned lock file.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 AIRFLOW_HOME=/opt/airflow
WORKDIR /opt/chibo
COPY requirements.lock pyproject.toml README.md ./
RUN pip install "uv==0.13.9" && uv pip install --system -r requirements.lock "psycopg2-binary>=2.9,<3"
COPY . .
RUN uv pip install --system --no-deps -e .
