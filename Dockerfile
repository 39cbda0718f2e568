# chibo image: Airflow 3 with chibo installed from the pinned lock file, run by a non-root user.
# No secret is baked in: the JWT secret, the admin password and the SMTP connection come from .env at run time
# (docker-compose.yml, docs/operations.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_NO_CACHE=1 \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/chibo/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False

# The user of the official Airflow image: uid 50000, group 0, so that docker-compose.yml can run it as
# "${AIRFLOW_UID}:0" and every folder below stays writable through the group.
RUN useradd --uid 50000 --gid 0 --home-dir /opt/airflow --create-home --shell /bin/bash airflow \
    && mkdir -p /opt/airflow/logs /opt/airflow/secrets \
       /data/inbox /data/archive /data/quarantine /data/warehouse /data/work /data/publish /data/data_docs \
    && chown -R 50000:0 /opt/airflow /data \
    && chmod -R g+rwX /opt/airflow /data

WORKDIR /opt/chibo
COPY requirements.lock pyproject.toml README.md ./
RUN pip install "uv==0.13.9" && uv pip install --system -r requirements.lock

# The code, read-only to the user (.dockerignore keeps .venv, var/, .git, .env and build output out).
COPY . .
RUN uv pip install --system --no-deps -e .

USER 50000:0
EXPOSE 8080
CMD ["airflow", "version"]
