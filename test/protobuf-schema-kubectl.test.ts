/**
 * The protobuf field table (shared/apiserver/protobuf-schema.ts) checked against kubectl v1.35
 * itself: its binary (the devDependency) carries the `protobuf:"bytes,N,opt,name=json"` struct tags
 * of the API types it links, so every (number, JSON name) of the table must appear there — except
 * fields of types kubectl v1.35 does not link (listed below), which this check cannot see.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { PROTOBUF_MESSAGES } from '../shared/apiserver/protobuf-schema.js';
import { kubectlPath } from './support/kubectl.js';

/** Fields whose tags are absent from kubectl v1.35's binary (types it does not link, or newer fields). */
const NOT_IN_KUBECTL = new Set([
  'PodSpec.schedulingGroup', 'PodSpec.evictionResponders', 'PodStatus.nodeAllocatableResourceClaimStatuses', 'PodStatus.volumeHealth',
  'NodeSpec.podPreemptionPolicy', 'PodSchedulingGroup.podGroupName', 'EvictionResponder.priority',
  'NodeAllocatableResourceClaimStatus.resourceClaimName', 'NodeAllocatableResourceClaimStatus.mapping',
  'NodeAllocatableResourceClaimStatus.overhead', 'PodVolumeHealth.healthConditions', 'NodePodPreemptionPolicy.disableResizePreemption',
  'VolumeMount.bindMountOptions', 'VolumeMountStatus.volumeStatus', 'ContainerExtendedResourceRequest.resourceName',
  'ContainerExtendedResourceRequest.requestName', 'NodeAllocatableMappedResources.quantity', 'NodeAllocatableOverheadResources.perPod',
  'NodeAllocatableOverheadResources.perContainer', 'VolumeHealthCondition.status', 'SecretVolumeSource.defaultUser',
  'DownwardAPIVolumeSource.defaultUser', 'ConfigMapVolumeSource.defaultUser', 'ProjectedVolumeSource.defaultUser',
  'LinuxContainerUser.gid', 'ResourceHealth.health', 'HTTPGetAction.protocol', 'ImageVolumeStatus.imageRef',
  'ClusterTrustBundleProjection.user', 'PodCertificateProjection.user',
]);

describe('protobuf field table against kubectl v1.35', () => {
  it('every field number and JSON name is one kubectl itself declares', () => {
    const binary = readFileSync(kubectlPath()).toString('latin1');
    const declared = new Set<string>();
    for (const m of binary.matchAll(/protobuf:"(?:bytes|varint|fixed64|fixed32|zigzag64|zigzag32),(\d+),(?:opt|rep|req),name=(\w+)/g)) {
      declared.add(`${m[1]} ${m[2]}`);
    }
    expect(declared.size).toBeGreaterThan(1000);
    const unconfirmed: string[] = [];
    let checked = 0;
    for (const [message, fields] of Object.entries(PROTOBUF_MESSAGES)) {
      for (const entry of fields.split(';').map((f) => f.trim()).filter(Boolean)) {
        const [number, jsonName] = entry.split(' ');
        if (jsonName === '~') continue; // an inlined struct: no tag of its own
        checked++;
        if (!declared.has(`${number} ${jsonName}`) && !NOT_IN_KUBECTL.has(`${message}.${jsonName}`)) unconfirmed.push(`${message}: ${entry}`);
      }
    }
    expect(checked).toBeGreaterThan(800);
    expect(unconfirmed).toEqual([]);
  });
});
