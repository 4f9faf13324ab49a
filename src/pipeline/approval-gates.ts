/**
 * Which deploys an approval gates, and which approvals gate a deploy: a
 * deploy is gated by an approval it needs, directly or through other
 * actions of its stage, or by any approval of a stage its own stage needs,
 * directly or through other stages. An approval binds to the artifacts of
 * exactly these deploys (PRODUCT K4), wherever they sit in the pipeline.
 */
import { deployActions, findAction, findStage, type PipelineDefinition } from './definition.ts';

export interface GatedDeploy {
  stage: string;
  action: string;
  environment: string;
  artifact: string;
}

/** The stages that `stage` needs, transitively, itself excluded. */
function stagesBefore(definition: PipelineDefinition, stage: string): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string) => {
    for (const need of findStage(definition, name)?.needs ?? []) {
      if (!seen.has(need)) {
        seen.add(need);
        visit(need);
      }
    }
  };
  visit(stage);
  return seen;
}

/** The actions of stage `stage` that `action` needs, transitively. */
function actionsBefore(definition: PipelineDefinition, stage: string, action: string): Set<string> {
  const seen = new Set<string>();
  const visit = (name: string) => {
    for (const need of findAction(definition, stage, name)?.needs ?? []) {
      if (!seen.has(need)) {
        seen.add(need);
        visit(need);
      }
    }
  };
  visit(action);
  return seen;
}

/** The approvals (stage, action) that must let this deploy through. */
export function gatingApprovals(
  definition: PipelineDefinition,
  stage: string,
  action: string,
): Array<{ stage: string; action: string }> {
  const gates: Array<{ stage: string; action: string }> = [];
  for (const name of actionsBefore(definition, stage, action))
    if (findAction(definition, stage, name)?.kind === 'approval') gates.push({ stage, action: name });
  for (const before of stagesBefore(definition, stage)) {
    for (const a of findStage(definition, before)?.actions ?? [])
      if (a.kind === 'approval') gates.push({ stage: before, action: a.name });
  }
  return gates;
}

/** The deploys this approval gates, to its environment. */
export function deploysGatedBy(
  definition: PipelineDefinition,
  stage: string,
  action: string,
  environment: string,
): GatedDeploy[] {
  const deploys: GatedDeploy[] = [];
  for (const { stage: s, action: a } of deployActions(definition, { environment })) {
    if (gatingApprovals(definition, s, a.name).some((g) => g.stage === stage && g.action === action)) {
      deploys.push({ stage: s, action: a.name, environment, artifact: a.deploy.artifact });
    }
  }
  return deploys;
}
