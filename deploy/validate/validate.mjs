// Validates every Kubernetes object in the given YAML files (and the JSON-patch injection template applied to a
// minimal pod) against the Kubernetes schemas shipped in kubernetes-models. Exit 1 on the first invalid object.
import fs from 'node:fs';
import yaml from 'js-yaml';

async function validate(obj, where) {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const group = obj.apiVersion.includes('/') ? obj.apiVersion : obj.apiVersion;
  let mod;
  try {
    mod = await import(`kubernetes-models/${group}`);
  } catch (e) {
    throw new Error(`${where}: no schema for ${key}`);
  }
  const Model = mod[obj.kind];
  if (!Model) throw new Error(`${where}: no schema for ${key}`);
  new Model(obj).validate();
  console.log(`valid: ${where} ${key} ${obj.metadata && obj.metadata.name}`);
}

// RFC 6902 "add" ops only (what the template uses).
function applyPatch(doc, ops) {
  for (const op of ops) {
    if (op.op !== 'add') throw new Error(`unsupported patch op ${op.op}`);
    const parts = op.path.split('/').slice(1);
    let target = doc;
    for (const p of parts.slice(0, -1)) {
      if (target[p] === undefined) target[p] = [];
      target = target[p];
    }
    const last = parts[parts.length - 1];
    if (last === '-') target.push(op.value); else target[last] = op.value;
  }
  return doc;
}

let failed = false;
for (const file of process.argv.slice(2)) {
  try {
    if (file.endsWith('.json')) {
      const ops = JSON.parse(fs.readFileSync(file, 'utf8'));
      const pod = applyPatch({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'patched'},
        spec: {volumes: [], initContainers: [], containers: [{name: 'app', image: 'app:1'}]}}, ops);
      await validate(pod, file + ' (applied to a pod)');
    } else {
      const docs = yaml.loadAll(fs.readFileSync(file, 'utf8')).filter(Boolean);
      for (let i = 0; i < docs.length; i++) await validate(docs[i], `${file}#${i}`);
    }
  } catch (e) {
    failed = true;
    console.error(`INVALID: ${file}: ${e.message}`);
  }
}
process.exit(failed ? 1 : 0);
