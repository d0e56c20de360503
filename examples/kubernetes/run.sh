#!/bin/sh
# The three steps in order, each waiting for the one before (Argo or Airflow express the same DAG).
set -eu
cd "$(dirname "$0")"
kubectl apply -f volume.yaml
for step in prepare build-shards publish; do
  kubectl delete job "recall-$step" --ignore-not-found
  kubectl apply -f "$step-job.yaml"
  kubectl wait --for=condition=complete --timeout=6h "job/recall-$step"
done
