# APT workbench with Jupyter and the GoNB kernel: the project, its notebooks
# and everything they need, ready to open in a browser.
#
#   docker build -t apt-workbench .
#   docker run --rm -p 8888:8888 apt-workbench
#
# then open the http://127.0.0.1:8888/?token=... URL that Jupyter prints.
# Start with quickstart.ipynb. To use a real checkpoint instead of the random
# demo model: docker run -e APT_MODEL=bert-base-uncased ... (needs network), or
# mount a model directory (-v /path/to/model:/model -e APT_MODEL=/model). To run
# the benchmark notebooks on real data, mount the benchmark folder beside the
# checkout: -v /path/to/shared:/opt/shared:ro (it holds data/CB, data/CoNLL04,
# ...; without it the notebooks fall back to the demo task, with a note).
#
# The install steps are exactly scripts/install-deps.sh, which CI runs on every
# change (.ci/run), so this file cannot drift from a tested setup.
ARG GO_IMAGE=golang:1.26-bookworm
FROM ${GO_IMAGE}

ENV DEBIAN_FRONTEND=noninteractive \
    GOTOOLCHAIN=local \
    LANG=C.UTF-8

WORKDIR /opt/apt-workbench
COPY . .

# Go modules, Jupyter (Debian packages), gonb, goimports, gopls, kernel spec.
# Then build everything once: the notebooks' first cells compile in seconds
# from the warm build cache.
RUN scripts/install-deps.sh \
 && go build ./... \
 && rm -rf /var/lib/apt/lists/*

EXPOSE 8888
WORKDIR /opt/apt-workbench/notebooks
CMD ["jupyter", "notebook", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--allow-root", \
     "--notebook-dir=/opt/apt-workbench/notebooks"]
