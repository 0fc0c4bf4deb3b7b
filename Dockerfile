# onethread gateway: slim Python, non-root, health-checked.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY adapters ./adapters
COPY dialogs ./dialogs
COPY handoff ./handoff
COPY knowledge ./knowledge
RUN pip install --no-compile . \
 && useradd --create-home --uid 10001 onethread \
 && mkdir -p /data && chown onethread /data

USER onethread
ENV ONETHREAD_STORE_URL=sqlite:////data/onethread.sqlite3 \
    ONETHREAD_MODEL_CACHE=/home/onethread/models
# Make the integer copy of the embedding model and the demo's training embeddings in the image,
# so a container's first start does neither.
RUN python -c "from knowledge.embedder import Embedder; assert Embedder().variant == 'integer'" \
 && python -c "from gateway.knowledge_loader import prepare; prepare()"
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status == 200 else 1)"
CMD ["onethread", "serve", "--host", "0.0.0.0", "--port", "8080"]
