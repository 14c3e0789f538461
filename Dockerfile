# The image deploy/cronjob.yaml runs: okedoctor and its dependencies, as a non-root user.
FROM python:3.11-slim
COPY . /src
RUN pip install --no-cache-dir /src && rm -rf /src && useradd --uid 10001 --no-create-home okedoctor
USER 10001
ENTRYPOINT ["okedoctor"]
